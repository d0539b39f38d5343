//! Statements for features Meridian does not have, answered as Apache Cassandra 5.0 answers
//! them in its default configuration:
//!
//! - roles, users and permissions (`CREATE ROLE`, `GRANT`, `LIST PERMISSIONS`, ...):
//!   Meridian has no authentication, so every client is the anonymous user, as with
//!   Cassandra's `AllowAllAuthenticator` and `AllowAllAuthorizer`. The checks Cassandra makes
//!   before it looks at the login (superuser status, role options the role manager supports,
//!   datacenter names) come first, with its messages; then Unauthorized "You have to be
//!   logged in and not anonymous to perform this request".
//! - user-defined functions and aggregates: disabled (`user_defined_functions_enabled:
//!   false`), so none can exist: `CREATE FUNCTION` is refused after its statement checks,
//!   `CREATE AGGREGATE` finds no state function, `DROP` finds nothing to drop.
//! - triggers: Meridian runs no Java, so no trigger class can be loaded and none exists.
//!
//! Nothing here changes the schema.

use std::collections::BTreeSet;

use meridian_cql_parser::ast;

use crate::context::{Node, Session};
use crate::ddl::{keyspace_or_session, resolve_type};
use crate::error::QueryError;
use crate::result::QueryResult;

/// Cassandra's refusal of role and permission statements to the anonymous user.
pub const ANONYMOUS_MESSAGE: &str =
    "You have to be logged in and not anonymous to perform this request";

/// Cassandra 5.0's refusal of `CREATE FUNCTION` with user-defined functions disabled.
pub const UDFS_DISABLED_MESSAGE: &str = "User-defined functions are disabled in cassandra.yaml - set user_defined_functions_enabled=true to enable";

/// The role manager Cassandra names in "doesn't support" messages (its default, which
/// supports only LOGIN and SUPERUSER without password authentication).
const ROLE_MANAGER: &str = "org.apache.cassandra.auth.CassandraRoleManager";

fn unauthorized(message: &str) -> QueryError {
    QueryError::Unauthorized(message.to_string())
}

/// Executes a role, user or permission statement.
pub fn execute_access_control(
    node: &Node,
    statement: &ast::AccessControlStatement,
) -> Result<QueryResult, QueryError> {
    use ast::AccessControlStatement as A;
    match statement {
        A::CreateRole { name, options, .. } => {
            if superuser_option(options) == Some(true) {
                return Err(unauthorized(
                    "Only superusers can create a role with superuser status",
                ));
            }
            check_role_options(node, options)?;
            if name.as_str().is_empty() {
                return Err(QueryError::invalid("Role name can't be an empty string"));
            }
        }
        A::AlterRole { options, .. } => {
            if superuser_option(options).is_some() {
                return Err(unauthorized(
                    "Only superusers are allowed to alter superuser status",
                ));
            }
            if options.iter().any(|o| {
                matches!(
                    o,
                    ast::RoleOption::AccessToAllDatacenters
                        | ast::RoleOption::AccessToDatacenters(_)
                )
            }) {
                return Err(unauthorized(
                    "Only superusers are allowed to alter access to datacenters.",
                ));
            }
            if options.iter().any(|o| {
                matches!(
                    o,
                    ast::RoleOption::AccessFromAllCidrs | ast::RoleOption::AccessFromCidrs(_)
                )
            }) {
                return Err(unauthorized(
                    "Only superusers are allowed to alter access from CIDR groups.",
                ));
            }
            check_role_options(node, options)?;
            if options.is_empty() {
                return Err(QueryError::invalid("ALTER [ROLE|USER] can't be empty"));
            }
        }
        A::CreateUser {
            password,
            superuser,
            ..
        } => {
            if *superuser == Some(true) {
                return Err(unauthorized(
                    "Only superusers can create a role with superuser status",
                ));
            }
            check_user_password(password.as_ref())?;
        }
        A::AlterUser {
            password,
            superuser,
            ..
        } => {
            if superuser.is_some() {
                return Err(unauthorized(
                    "Only superusers are allowed to alter superuser status",
                ));
            }
            check_user_password(password.as_ref())?;
            if password.is_none() {
                return Err(QueryError::invalid("ALTER [ROLE|USER] can't be empty"));
            }
        }
        A::DropRole { name, .. } if name.as_str().is_empty() => {
            // Cassandra looks the role up before the login check, with an empty key.
            return Err(QueryError::invalid("Key may not be empty"));
        }
        A::DropUser { name, .. } if name.is_empty() => {
            return Err(QueryError::invalid("Key may not be empty"));
        }
        A::DropRole { .. }
        | A::ListRoles { .. }
        | A::DropUser { .. }
        | A::ListUsers
        | A::GrantPermissions { .. }
        | A::RevokePermissions { .. }
        | A::ListPermissions { .. }
        | A::GrantRole { .. }
        | A::RevokeRole { .. }
        | A::AddIdentity { .. }
        | A::DropIdentity { .. } => {}
    }
    Err(unauthorized(ANONYMOUS_MESSAGE))
}

/// The last `SUPERUSER = ...` of the options.
fn superuser_option(options: &[ast::RoleOption]) -> Option<bool> {
    options.iter().rev().find_map(|o| match o {
        ast::RoleOption::Superuser(b) => Some(*b),
        _ => None,
    })
}

fn unsupported_option(option: &str) -> QueryError {
    QueryError::invalid(format!("{ROLE_MANAGER} doesn't support {option}"))
}

fn check_user_password(password: Option<&ast::UserPassword>) -> Result<(), QueryError> {
    match password {
        Some(ast::UserPassword::Plain(_)) => Err(unsupported_option("PASSWORD")),
        Some(ast::UserPassword::Hashed(_)) => Err(unsupported_option("HASHED_PASSWORD")),
        None => Ok(()),
    }
}

/// `RoleOptions.validate` (only LOGIN and SUPERUSER are supported without password
/// authentication), then `DCPermissions.validate` (every named datacenter must exist).
fn check_role_options(node: &Node, options: &[ast::RoleOption]) -> Result<(), QueryError> {
    for option in options {
        match option {
            ast::RoleOption::Password(_) => return Err(unsupported_option("PASSWORD")),
            ast::RoleOption::HashedPassword(_) => {
                return Err(unsupported_option("HASHED_PASSWORD"))
            }
            ast::RoleOption::Options(_) => return Err(unsupported_option("OPTIONS")),
            _ => {}
        }
    }
    let datacenters = named_in(options, |o| match o {
        ast::RoleOption::AccessToDatacenters(dcs) => Some(dcs),
        _ => None,
    });
    if !datacenters.is_empty() {
        let known = known_datacenters(node);
        if datacenters.iter().any(|dc| !known.contains(dc.as_str())) {
            return Err(QueryError::invalid(format!(
                "Invalid value(s) for DATACENTERS '[{}]',All values must be valid datacenters",
                java_hash_set_order(&datacenters).join(", ")
            )));
        }
    }
    // No CIDR group is defined (Meridian has no CIDR authorizer).
    let cidr_groups = named_in(options, |o| match o {
        ast::RoleOption::AccessFromCidrs(groups) => Some(groups),
        _ => None,
    });
    if !cidr_groups.is_empty() {
        return Err(QueryError::invalid(format!(
            "Invalid CIDR group(s): [{}]. Available CIDR Groups are: []",
            java_hash_set_order(&cidr_groups).join(", ")
        )));
    }
    Ok(())
}

/// Every name of the options `pick` selects (datacenters, CIDR groups), in source order.
fn named_in<'a>(
    options: &'a [ast::RoleOption],
    pick: impl Fn(&'a ast::RoleOption) -> Option<&'a Vec<String>>,
) -> Vec<&'a String> {
    options.iter().filter_map(pick).flatten().collect()
}

/// The datacenters this node knows of (its own and every member's).
fn known_datacenters(node: &Node) -> BTreeSet<String> {
    let mut datacenters = BTreeSet::from([node.info.datacenter.clone()]);
    if let Some(c) = node.coordinator() {
        for m in c.membership().view().members.values() {
            datacenters.insert(m.info.datacenter.clone());
        }
    }
    datacenters
}

/// Java's `String.hashCode`.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The distinct values in the order a `java.util.HashSet` built from them (in this order)
/// iterates: by bucket (`hash ^ hash >>> 16` masked by the table size, which starts at 16 and
/// doubles past three quarters full), then by insertion. Cassandra prints such sets in
/// messages.
fn java_hash_set_order<'a>(values: &[&'a String]) -> Vec<&'a str> {
    let mut distinct: Vec<&'a str> = Vec::new();
    for v in values {
        if !distinct.contains(&v.as_str()) {
            distinct.push(v.as_str());
        }
    }
    let mut capacity: u32 = 16;
    while distinct.len() as u64 * 4 > u64::from(capacity) * 3 {
        capacity *= 2;
    }
    let bucket = |s: &str| {
        let h = java_string_hash(s) as u32;
        (h ^ (h >> 16)) & (capacity - 1)
    };
    let mut ordered: Vec<(u32, usize, &'a str)> = distinct
        .iter()
        .enumerate()
        .map(|(i, s)| (bucket(s), i, *s))
        .collect();
    ordered.sort_unstable();
    ordered.into_iter().map(|(_, _, s)| s).collect()
}

/// `AlterSchemaStatement.execute`'s checks: system and virtual keyspaces are not
/// user-modifiable.
fn check_modifiable(node: &Node, keyspace: &str) -> Result<(), QueryError> {
    Ok(meridian_schema::ddl::check_modifiable(
        &node.schema(),
        keyspace,
    )?)
}

/// A frozen (non-tuple) type is refused where a function takes arguments or state.
fn is_frozen_non_tuple(ty: &ast::CqlType) -> bool {
    match ty {
        ast::CqlType::Frozen(inner) => !matches!(**inner, ast::CqlType::Tuple(_)),
        _ => false,
    }
}

fn frozen_argument(types: &[ast::CqlType]) -> Result<(), QueryError> {
    match types.iter().find(|t| is_frozen_non_tuple(t)) {
        Some(t) => Err(QueryError::invalid(format!(
            "Argument '{t}' cannot be frozen; remove frozen<> modifier from '{t}'"
        ))),
        None => Ok(()),
    }
}

fn joined(types: &[ast::CqlType]) -> String {
    types
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CREATE FUNCTION`: refused, user-defined functions being disabled.
pub fn create_function(
    node: &Node,
    session: &Session,
    s: &ast::CreateFunctionStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_or_session(s.name.keyspace.as_ref(), session)?;
    check_modifiable(node, &keyspace)?;
    if s.if_not_exists && s.or_replace {
        return Err(QueryError::invalid(
            "Cannot use both 'OR REPLACE' and 'IF NOT EXISTS' directives",
        ));
    }
    Err(QueryError::invalid(UDFS_DISABLED_MESSAGE))
}

/// `CREATE AGGREGATE`: no user-defined function exists to be its state function.
pub fn create_aggregate(
    node: &Node,
    session: &Session,
    s: &ast::CreateAggregateStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_or_session(s.name.keyspace.as_ref(), session)?;
    let schema = node.schema();
    // Checked when the statement is prepared, before anything else.
    if schema.keyspace(&keyspace).is_none() {
        return Err(QueryError::Config(format!(
            "Keyspace {keyspace} doesn't exist"
        )));
    }
    check_modifiable(node, &keyspace)?;
    if s.if_not_exists && s.or_replace {
        return Err(QueryError::invalid(
            "Cannot use both 'OR REPLACE' and 'IF NOT EXISTS' directives",
        ));
    }
    let name = s.name.name.as_str();
    // `FunctionName.isNameValid` (`\w+`): the rule of keyspace and table names.
    if !meridian_schema::ddl::has_valid_name_characters(name) {
        return Err(QueryError::invalid(format!(
            "Aggregate name '{name}' is invalid"
        )));
    }
    frozen_argument(&s.arguments)?;
    if is_frozen_non_tuple(&s.state_type) {
        let t = &s.state_type;
        return Err(QueryError::invalid(format!(
            "State type '{t}' cannot be frozen; remove frozen<> modifier from '{t}'"
        )));
    }
    for ty in s.arguments.iter().chain(std::iter::once(&s.state_type)) {
        resolve_type(ty, &keyspace, &schema)?;
    }
    let mut state_arguments = vec![s.state_type.clone()];
    state_arguments.extend(s.arguments.iter().cloned());
    Err(QueryError::invalid(format!(
        "State function {keyspace}.{}({}) doesn't exist",
        s.state_function.as_str(),
        joined(&state_arguments)
    )))
}

/// `DROP FUNCTION` / `DROP AGGREGATE`: none exists.
pub fn drop_function(
    node: &Node,
    session: &Session,
    s: &ast::DropFunctionStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_or_session(s.name.keyspace.as_ref(), session)?;
    check_modifiable(node, &keyspace)?;
    let kind = if s.aggregate { "Aggregate" } else { "Function" };
    let name = match &s.arguments {
        Some(args) => format!("{keyspace}.{}({})", s.name.name.as_str(), joined(args)),
        None => format!("{keyspace}.{}", s.name.name.as_str()),
    };
    let not_found = || -> Result<QueryResult, QueryError> {
        if s.if_exists {
            Ok(QueryResult::Void)
        } else {
            Err(QueryError::invalid(format!(
                "{kind} '{name}' doesn't exist"
            )))
        }
    };
    let schema = node.schema();
    if schema.keyspace(&keyspace).is_none() {
        return not_found();
    }
    if let Some(args) = &s.arguments {
        frozen_argument(args)?;
        for ty in args {
            resolve_type(ty, &keyspace, &schema)?;
        }
    }
    not_found()
}

/// `CREATE TRIGGER`: the table must exist; no trigger class can be loaded.
pub fn create_trigger(
    node: &Node,
    session: &Session,
    s: &ast::CreateTriggerStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_or_session(s.table.keyspace.as_ref(), session)?;
    check_modifiable(node, &keyspace)?;
    let schema = node.schema();
    let Some(ks) = schema.keyspace(&keyspace) else {
        return Err(QueryError::invalid(format!(
            "Keyspace '{keyspace}' doesn't exist"
        )));
    };
    let table = s.table.name.as_str();
    if !ks.tables.contains_key(table) {
        return Err(QueryError::invalid(format!(
            "Table '{table}' doesn't exist"
        )));
    }
    Err(QueryError::invalid(format!(
        "Trigger class '{}' couldn't be loaded",
        s.class
    )))
}

/// `DROP TRIGGER`: none exists.
pub fn drop_trigger(
    node: &Node,
    session: &Session,
    s: &ast::DropTriggerStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_or_session(s.table.keyspace.as_ref(), session)?;
    check_modifiable(node, &keyspace)?;
    if s.if_exists {
        return Ok(QueryResult::Void);
    }
    Err(QueryError::invalid(format!(
        "Trigger '{}' on '{keyspace}.{}' doesn't exist",
        s.name.as_str(),
        s.table.name.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_set_order_matches_the_jvm() {
        // Cassandra 5.0.9 printed "[dc2, dc1]" for ACCESS TO DATACENTERS {'dc1', 'dc2'}.
        let (dc1, dc2) = ("dc1".to_string(), "dc2".to_string());
        assert_eq!(java_hash_set_order(&[&dc1, &dc2]), ["dc2", "dc1"]);
        assert_eq!(java_hash_set_order(&[&dc1, &dc1]), ["dc1"]);
        // And "[dc10, east, dc1, west]" for {'east', 'west', 'dc1', 'dc10'}.
        let names = ["east", "west", "dc1", "dc10"].map(String::from);
        let refs: Vec<&String> = names.iter().collect();
        assert_eq!(java_hash_set_order(&refs), ["dc10", "east", "dc1", "west"]);
        assert_eq!(java_string_hash("dc1"), 99218);
        assert_eq!(java_string_hash(""), 0);
        // More than twelve values: the table grows to 32 buckets.
        let many: Vec<String> = (0..13).map(|i| format!("dc{i}")).collect();
        let refs: Vec<&String> = many.iter().collect();
        assert_eq!(java_hash_set_order(&refs).len(), 13);
    }
}

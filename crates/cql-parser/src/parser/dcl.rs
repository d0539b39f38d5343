//! Roles, users and permissions (`createRoleStatement` ... `listPermissionsStatement` in
//! `Parser.g`), user-defined functions and aggregates (`createFunctionStatement`,
//! `createAggregateStatement`, `drop{Function,Aggregate}Statement`) and triggers.
//!
//! Where the grammar has two statements behind one keyword, the choice looks ahead as
//! ANTLR's prediction does: `GRANT`/`REVOKE` with a permission keyword (or `ALL`) not
//! followed by `TO`/`FROM` manage permissions, anything else grants a role; `LIST ROLES` and
//! `LIST USERS` list roles, any other `LIST` lists permissions.

use super::{string_literal_value, PResult, Parser};
use crate::ast::{
    AccessControlStatement, CqlType, CreateAggregateStatement, CreateFunctionStatement,
    CreateTriggerStatement, DropFunctionStatement, DropTriggerStatement, Identifier, Permission,
    Permissions, Resource, RoleOption, UserPassword,
};
use crate::token::{Kw, TokenKind};

/// The permission a keyword names (`permission`).
fn permission_of(kind: TokenKind) -> Option<Permission> {
    Some(match kind {
        TokenKind::Keyword(Kw::Create) => Permission::Create,
        TokenKind::Keyword(Kw::Alter) => Permission::Alter,
        TokenKind::Keyword(Kw::Drop) => Permission::Drop,
        TokenKind::Keyword(Kw::Select) => Permission::Select,
        TokenKind::Keyword(Kw::Modify) => Permission::Modify,
        TokenKind::Keyword(Kw::Authorize) => Permission::Authorize,
        TokenKind::Keyword(Kw::Describe) => Permission::Describe,
        TokenKind::Keyword(Kw::Execute) => Permission::Execute,
        TokenKind::Keyword(Kw::Unmask) => Permission::Unmask,
        TokenKind::Keyword(Kw::SelectMasked) => Permission::SelectMasked,
        _ => return None,
    })
}

impl Parser<'_> {
    /// Whether a `GRANT` / `REVOKE` manages permissions (else it grants or revokes a role).
    pub(crate) fn is_permission_statement(&mut self) -> bool {
        let first = self.la(2);
        (first == TokenKind::Keyword(Kw::All) || permission_of(first).is_some())
            && !matches!(
                self.la(3),
                TokenKind::Keyword(Kw::To) | TokenKind::Keyword(Kw::From)
            )
    }

    /// A string literal's value.
    fn string_literal(&mut self) -> PResult<String> {
        let tok = self.expect(TokenKind::StringLiteral)?;
        Ok(string_literal_value(self.text(&tok)))
    }

    /// `userOrRoleName`: an identifier (unquoted: lower-cased), a quoted name or a string
    /// literal (as written).
    fn role_name(&mut self) -> PResult<Identifier> {
        match self.la(1) {
            TokenKind::StringLiteral => Ok(Identifier::new(self.string_literal()?)),
            TokenKind::QMark => {
                self.advance();
                self.recognition_error("Bind variables cannot be used for role names".into());
                Ok(Identifier::new("?"))
            }
            _ => self.ident(),
        }
    }

    /// `username`: `IDENT` or a string literal, case kept (a quoted name is refused).
    fn user_name(&mut self) -> PResult<String> {
        let tok = self.lt(1);
        match tok.kind {
            TokenKind::Ident => {
                self.advance();
                Ok(self.text(&tok).to_string())
            }
            TokenKind::StringLiteral => self.string_literal(),
            TokenKind::QuotedName => {
                self.advance();
                self.recognition_error(
                    "Quoted strings are are not supported for user names and USER is deprecated, please use ROLE"
                        .into(),
                );
                Ok(self.ident_of(&tok).into_string())
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `identity`: `IDENT` or a string literal, as written (a quoted name is refused).
    fn identity(&mut self) -> PResult<String> {
        let tok = self.lt(1);
        match tok.kind {
            TokenKind::Ident => {
                self.advance();
                Ok(self.text(&tok).to_string())
            }
            TokenKind::StringLiteral => self.string_literal(),
            TokenKind::QuotedName => {
                self.advance();
                self.recognition_error("Quoted strings are are not supported for identity".into());
                Ok(self.ident_of(&tok).into_string())
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `addIdentityStatement`.
    pub(crate) fn add_identity(&mut self) -> PResult<AccessControlStatement> {
        self.expect_kw(Kw::Add)?;
        self.expect_kw(Kw::Identity)?;
        let if_not_exists = self.if_not_exists()?;
        let identity = self.identity()?;
        self.expect_kw(Kw::To)?;
        self.expect_kw(Kw::Role)?;
        let role = self.identity()?;
        Ok(AccessControlStatement::AddIdentity {
            if_not_exists,
            identity,
            role,
        })
    }

    /// `dropIdentityStatement`.
    pub(crate) fn drop_identity(&mut self) -> PResult<AccessControlStatement> {
        self.expect_kw(Kw::Drop)?;
        self.expect_kw(Kw::Identity)?;
        let if_exists = self.if_exists()?;
        let identity = self.identity()?;
        Ok(AccessControlStatement::DropIdentity {
            if_exists,
            identity,
        })
    }

    fn boolean(&mut self) -> PResult<bool> {
        let tok = self.expect(TokenKind::Boolean)?;
        Ok(self.text(&tok).eq_ignore_ascii_case("true"))
    }

    /// `'{' STRING_LITERAL (',' STRING_LITERAL)* '}'` (datacenters, CIDR groups).
    fn string_set(&mut self) -> PResult<Vec<String>> {
        self.expect(TokenKind::LBrace)?;
        let mut out = vec![self.string_literal()?];
        while self.eat(TokenKind::Comma) {
            out.push(self.string_literal()?);
        }
        self.expect(TokenKind::RBrace)?;
        Ok(out)
    }

    /// `roleOption`.
    fn role_option(&mut self) -> PResult<RoleOption> {
        match self.la(1) {
            TokenKind::Keyword(Kw::Password) => {
                self.advance();
                self.expect(TokenKind::Eq)?;
                Ok(RoleOption::Password(self.string_literal()?))
            }
            TokenKind::Keyword(Kw::Hashed) => {
                self.advance();
                self.expect_kw(Kw::Password)?;
                self.expect(TokenKind::Eq)?;
                Ok(RoleOption::HashedPassword(self.string_literal()?))
            }
            TokenKind::Keyword(Kw::Options) => {
                self.advance();
                self.expect(TokenKind::Eq)?;
                Ok(RoleOption::Options(self.full_map_literal()?))
            }
            TokenKind::Keyword(Kw::Superuser) => {
                self.advance();
                self.expect(TokenKind::Eq)?;
                Ok(RoleOption::Superuser(self.boolean()?))
            }
            TokenKind::Keyword(Kw::Login) => {
                self.advance();
                self.expect(TokenKind::Eq)?;
                Ok(RoleOption::Login(self.boolean()?))
            }
            TokenKind::Keyword(Kw::Access) => match (self.la(2), self.la(3)) {
                (TokenKind::Keyword(Kw::To), TokenKind::Keyword(Kw::All)) => {
                    self.advance();
                    self.advance();
                    self.advance();
                    self.expect_kw(Kw::Datacenters)?;
                    Ok(RoleOption::AccessToAllDatacenters)
                }
                (TokenKind::Keyword(Kw::To), _) => {
                    self.advance();
                    self.advance();
                    self.expect_kw(Kw::Datacenters)?;
                    Ok(RoleOption::AccessToDatacenters(self.string_set()?))
                }
                (TokenKind::Keyword(Kw::From), TokenKind::Keyword(Kw::All)) => {
                    self.advance();
                    self.advance();
                    self.advance();
                    self.expect_kw(Kw::Cidrs)?;
                    Ok(RoleOption::AccessFromAllCidrs)
                }
                (TokenKind::Keyword(Kw::From), _) => {
                    self.advance();
                    self.advance();
                    self.expect_kw(Kw::Cidrs)?;
                    Ok(RoleOption::AccessFromCidrs(self.string_set()?))
                }
                _ => Err(self.no_viable_at(2)),
            },
            _ => Err(self.no_viable()),
        }
    }

    /// `(WITH roleOptions)?`, with the grammar's check that a password is given one way.
    fn role_options(&mut self) -> PResult<Vec<RoleOption>> {
        let mut options = Vec::new();
        if self.eat_kw(Kw::With) {
            options.push(self.role_option()?);
            while self.eat_kw(Kw::And) {
                options.push(self.role_option()?);
            }
        }
        let plain = options.iter().any(|o| matches!(o, RoleOption::Password(_)));
        let hashed = options
            .iter()
            .any(|o| matches!(o, RoleOption::HashedPassword(_)));
        if plain && hashed {
            self.recognition_error(
                "Options 'password' and 'hashed password' are mutually exclusive".into(),
            );
        }
        Ok(options)
    }

    /// `(WITH userPassword)? (SUPERUSER | NOSUPERUSER)?`.
    fn user_options(&mut self) -> PResult<(Option<UserPassword>, Option<bool>)> {
        let password = if self.eat_kw(Kw::With) {
            if self.eat_kw(Kw::Hashed) {
                self.expect_kw(Kw::Password)?;
                Some(UserPassword::Hashed(self.string_literal()?))
            } else {
                self.expect_kw(Kw::Password)?;
                Some(UserPassword::Plain(self.string_literal()?))
            }
        } else {
            None
        };
        let superuser = if self.eat_kw(Kw::Superuser) {
            Some(true)
        } else if self.eat_kw(Kw::Nosuperuser) {
            Some(false)
        } else {
            None
        };
        Ok((password, superuser))
    }

    /// `CREATE ROLE` / `CREATE USER`.
    pub(crate) fn create_role_or_user(&mut self) -> PResult<AccessControlStatement> {
        self.expect_kw(Kw::Create)?;
        if self.eat_kw(Kw::User) {
            let if_not_exists = self.if_not_exists()?;
            let name = self.user_name()?;
            let (password, superuser) = self.user_options()?;
            return Ok(AccessControlStatement::CreateUser {
                if_not_exists,
                name,
                password,
                superuser,
            });
        }
        self.expect_kw(Kw::Role)?;
        let if_not_exists = self.if_not_exists()?;
        let name = self.role_name()?;
        let options = self.role_options()?;
        Ok(AccessControlStatement::CreateRole {
            if_not_exists,
            name,
            options,
        })
    }

    /// `ALTER ROLE` / `ALTER USER`.
    pub(crate) fn alter_role_or_user(&mut self) -> PResult<AccessControlStatement> {
        self.expect_kw(Kw::Alter)?;
        if self.eat_kw(Kw::User) {
            let if_exists = self.if_exists()?;
            let name = self.user_name()?;
            let (password, superuser) = self.user_options()?;
            return Ok(AccessControlStatement::AlterUser {
                if_exists,
                name,
                password,
                superuser,
            });
        }
        self.expect_kw(Kw::Role)?;
        let if_exists = self.if_exists()?;
        let name = self.role_name()?;
        let options = self.role_options()?;
        Ok(AccessControlStatement::AlterRole {
            if_exists,
            name,
            options,
        })
    }

    /// `DROP ROLE` / `DROP USER`.
    pub(crate) fn drop_role_or_user(&mut self) -> PResult<AccessControlStatement> {
        self.expect_kw(Kw::Drop)?;
        if self.eat_kw(Kw::User) {
            let if_exists = self.if_exists()?;
            let name = self.user_name()?;
            return Ok(AccessControlStatement::DropUser { if_exists, name });
        }
        self.expect_kw(Kw::Role)?;
        let if_exists = self.if_exists()?;
        let name = self.role_name()?;
        Ok(AccessControlStatement::DropRole { if_exists, name })
    }

    /// `permissionOrAll`.
    fn permissions(&mut self) -> PResult<Permissions> {
        if self.eat_kw(Kw::All) {
            self.eat_kw(Kw::Permissions);
            return Ok(Permissions::All);
        }
        let mut out = Vec::new();
        loop {
            let Some(p) = permission_of(self.la(1)) else {
                return Err(self.no_viable());
            };
            self.advance();
            self.eat_kw(Kw::Permission);
            out.push(p);
            if !self.eat(TokenKind::Comma) {
                return Ok(Permissions::Listed(out));
            }
        }
    }

    /// `'(' (comparatorType (',' comparatorType)*)? ')'`.
    fn type_list(&mut self) -> PResult<Vec<CqlType>> {
        self.expect(TokenKind::LParen)?;
        let mut types = Vec::new();
        if !self.at(TokenKind::RParen) {
            types.push(self.comparator_type()?);
            while self.eat(TokenKind::Comma) {
                types.push(self.comparator_type()?);
            }
        }
        self.expect(TokenKind::RParen)?;
        Ok(types)
    }

    /// `resource`.
    fn resource(&mut self) -> PResult<Resource> {
        use TokenKind::Keyword as K;
        match (self.la(1), self.la(2)) {
            (K(Kw::All), K(Kw::Keyspaces)) => {
                self.advance();
                self.advance();
                Ok(Resource::AllKeyspaces)
            }
            (K(Kw::All), K(Kw::Tables)) => {
                self.advance();
                self.advance();
                self.expect_kw(Kw::In)?;
                self.expect_kw(Kw::Keyspace)?;
                Ok(Resource::AllTablesInKeyspace(self.keyspace_name()?))
            }
            (K(Kw::All), K(Kw::Roles)) => {
                self.advance();
                self.advance();
                Ok(Resource::AllRoles)
            }
            (K(Kw::All), K(Kw::Functions)) => {
                self.advance();
                self.advance();
                if self.eat_kw(Kw::In) {
                    self.expect_kw(Kw::Keyspace)?;
                    return Ok(Resource::AllFunctionsInKeyspace(self.keyspace_name()?));
                }
                Ok(Resource::AllFunctions)
            }
            (K(Kw::All), K(Kw::Mbeans)) => {
                self.advance();
                self.advance();
                Ok(Resource::AllMbeans)
            }
            (K(Kw::All), _) => Err(self.no_viable_at(2)),
            (K(Kw::Keyspace), _) => {
                self.advance();
                Ok(Resource::Keyspace(self.keyspace_name()?))
            }
            (K(Kw::ColumnFamily), _) => {
                self.advance();
                Ok(Resource::Table(self.table_name()?))
            }
            (K(Kw::Role), _) => {
                self.advance();
                Ok(Resource::Role(self.role_name()?))
            }
            (K(Kw::Function), _) => {
                self.advance();
                let name = self.function_name()?;
                let arguments = self.type_list()?;
                Ok(Resource::Function { name, arguments })
            }
            (K(Kw::Mbean), _) => {
                self.advance();
                let name = self.string_literal()?;
                self.check_mbean_name(&name, false);
                Ok(Resource::Mbean(name))
            }
            (K(Kw::Mbeans), _) => {
                self.advance();
                let pattern = self.string_literal()?;
                self.check_mbean_name(&pattern, true);
                Ok(Resource::Mbeans(pattern))
            }
            _ => Ok(Resource::Table(self.table_name()?)),
        }
    }

    /// The grammar's `canonicalizeObjectName` checks: a JMX object name is
    /// `domain:key=value[,key=value...]` (a pattern may use `*` and `?`, and `*` as a
    /// property); the plural `MBEANS` form needs a pattern.
    fn check_mbean_name(&mut self, name: &str, plural: bool) {
        if name.is_empty() {
            self.recognition_error("Empty JMX object name supplied".into());
            return;
        }
        if name == "*:*" {
            self.recognition_error("Please use ALL MBEANS instead of wildcard pattern".into());
            return;
        }
        let valid = name.split_once(':').is_some_and(|(domain, properties)| {
            !domain.contains('\n')
                && !properties.is_empty()
                && properties.split(',').all(|p| {
                    p == "*"
                        || p.split_once('=')
                            .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())
                })
        });
        if !valid {
            self.recognition_error(format!("{name} is not a valid JMX object name"));
        } else if plural && !name.contains(['*', '?']) {
            self.recognition_error(format!(
                "Plural form used, but non-pattern JMX object name specified ({name})"
            ));
        }
    }

    /// The grammar's `filterPermissions`: a resource takes only some permissions.
    fn filter_permissions(&mut self, permissions: &Permissions, resource: &Resource) {
        let Permissions::Listed(listed) = permissions else {
            return;
        };
        let applicable = applicable_permissions(resource);
        if !listed.iter().any(|p| applicable.contains(p)) {
            self.recognition_error(format!(
                "Resource type {} does not support any of the requested permissions",
                resource_class(resource)
            ));
        }
    }

    /// `GRANT` (`grant`: permissions or a role, to a role) or `REVOKE` (from a role).
    pub(crate) fn grant_or_revoke(&mut self, grant: bool) -> PResult<AccessControlStatement> {
        let permission = self.is_permission_statement();
        let (verb, preposition) = if grant {
            (Kw::Grant, Kw::To)
        } else {
            (Kw::Revoke, Kw::From)
        };
        self.expect_kw(verb)?;
        if permission {
            let permissions = self.permissions()?;
            self.expect_kw(Kw::On)?;
            let resource = self.resource()?;
            self.expect_kw(preposition)?;
            let role = self.role_name()?;
            self.filter_permissions(&permissions, &resource);
            return Ok(if grant {
                AccessControlStatement::GrantPermissions {
                    permissions,
                    resource,
                    role,
                }
            } else {
                AccessControlStatement::RevokePermissions {
                    permissions,
                    resource,
                    role,
                }
            });
        }
        let role = self.role_name()?;
        self.expect_kw(preposition)?;
        let other = self.role_name()?;
        Ok(if grant {
            AccessControlStatement::GrantRole {
                role,
                grantee: other,
            }
        } else {
            AccessControlStatement::RevokeRole {
                role,
                revokee: other,
            }
        })
    }

    /// `(OF roleName)? (NORECURSIVE)?`.
    fn of_recursive(&mut self) -> PResult<(Option<Identifier>, bool)> {
        let of = if self.eat_kw(Kw::Of) {
            Some(self.role_name()?)
        } else {
            None
        };
        let recursive = !self.eat_kw(Kw::Norecursive);
        Ok((of, recursive))
    }

    /// `LIST ROLES`, `LIST USERS` or `LIST permissions`.
    pub(crate) fn list_statement(&mut self) -> PResult<AccessControlStatement> {
        self.expect_kw(Kw::List)?;
        if self.eat_kw(Kw::Roles) {
            let (of, recursive) = self.of_recursive()?;
            return Ok(AccessControlStatement::ListRoles { of, recursive });
        }
        if self.eat_kw(Kw::Users) {
            return Ok(AccessControlStatement::ListUsers);
        }
        let permissions = self.permissions()?;
        let resource = if self.eat_kw(Kw::On) {
            Some(self.resource()?)
        } else {
            None
        };
        let (of, recursive) = self.of_recursive()?;
        Ok(AccessControlStatement::ListPermissions {
            permissions,
            resource,
            of,
            recursive,
        })
    }

    /// `CREATE (OR REPLACE)?`: whether `OR REPLACE` was given.
    fn create_or_replace(&mut self) -> PResult<bool> {
        self.expect_kw(Kw::Create)?;
        if self.eat_kw(Kw::Or) {
            self.expect_kw(Kw::Replace)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `createFunctionStatement`.
    pub(crate) fn create_function(&mut self) -> PResult<CreateFunctionStatement> {
        let or_replace = self.create_or_replace()?;
        self.expect_kw(Kw::Function)?;
        let if_not_exists = self.if_not_exists()?;
        let name = self.function_name()?;
        self.expect(TokenKind::LParen)?;
        let mut arguments = Vec::new();
        if !self.at(TokenKind::RParen) {
            loop {
                let arg = self.ident()?;
                let ty = self.comparator_type()?;
                arguments.push((arg, ty));
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(TokenKind::RParen)?;
        let called_on_null_input = if self.eat_kw(Kw::Returns) {
            self.expect_kw(Kw::Null)?;
            false
        } else {
            self.expect_kw(Kw::Called)?;
            true
        };
        self.expect_kw(Kw::On)?;
        self.expect_kw(Kw::Null)?;
        self.expect_kw(Kw::Input)?;
        self.expect_kw(Kw::Returns)?;
        let return_type = self.comparator_type()?;
        self.expect_kw(Kw::Language)?;
        let language = self.expect(TokenKind::Ident)?;
        let language = self.text(&language).to_ascii_lowercase();
        self.expect_kw(Kw::As)?;
        let body = self.string_literal()?;
        Ok(CreateFunctionStatement {
            or_replace,
            if_not_exists,
            name,
            arguments,
            called_on_null_input,
            return_type,
            language,
            body,
        })
    }

    /// `createAggregateStatement`.
    pub(crate) fn create_aggregate(&mut self) -> PResult<CreateAggregateStatement> {
        let or_replace = self.create_or_replace()?;
        self.expect_kw(Kw::Aggregate)?;
        let if_not_exists = self.if_not_exists()?;
        let name = self.function_name()?;
        let arguments = self.type_list()?;
        self.expect_kw(Kw::Sfunc)?;
        let state_function = self.allowed_function_name()?;
        self.expect_kw(Kw::Stype)?;
        let state_type = self.comparator_type()?;
        let final_function = if self.eat_kw(Kw::Finalfunc) {
            Some(self.allowed_function_name()?)
        } else {
            None
        };
        let initial_condition = if self.eat_kw(Kw::Initcond) {
            Some(self.term()?)
        } else {
            None
        };
        Ok(CreateAggregateStatement {
            or_replace,
            if_not_exists,
            name,
            arguments,
            state_function,
            state_type,
            final_function,
            initial_condition,
        })
    }

    /// `dropFunctionStatement` / `dropAggregateStatement`.
    pub(crate) fn drop_function(&mut self) -> PResult<DropFunctionStatement> {
        self.expect_kw(Kw::Drop)?;
        let aggregate = if self.eat_kw(Kw::Aggregate) {
            true
        } else {
            self.expect_kw(Kw::Function)?;
            false
        };
        let if_exists = self.if_exists()?;
        let name = self.function_name()?;
        let arguments = if self.at(TokenKind::LParen) {
            Some(self.type_list()?)
        } else {
            None
        };
        Ok(DropFunctionStatement {
            aggregate,
            if_exists,
            name,
            arguments,
        })
    }

    /// `createTriggerStatement`.
    pub(crate) fn create_trigger(&mut self) -> PResult<CreateTriggerStatement> {
        self.expect_kw(Kw::Create)?;
        self.expect_kw(Kw::Trigger)?;
        let if_not_exists = self.if_not_exists()?;
        let name = self.ident()?;
        self.expect_kw(Kw::On)?;
        let table = self.table_name()?;
        self.expect_kw(Kw::Using)?;
        let class = self.string_literal()?;
        Ok(CreateTriggerStatement {
            if_not_exists,
            name,
            table,
            class,
        })
    }

    /// `dropTriggerStatement`.
    pub(crate) fn drop_trigger(&mut self) -> PResult<DropTriggerStatement> {
        self.expect_kw(Kw::Drop)?;
        self.expect_kw(Kw::Trigger)?;
        let if_exists = self.if_exists()?;
        let name = self.ident()?;
        self.expect_kw(Kw::On)?;
        let table = self.table_name()?;
        Ok(DropTriggerStatement {
            if_exists,
            name,
            table,
        })
    }
}

/// The permissions a resource takes (Cassandra's `IResource.applicablePermissions`).
fn applicable_permissions(resource: &Resource) -> &'static [Permission] {
    use Permission::*;
    match resource {
        Resource::AllKeyspaces | Resource::Keyspace(_) => &[
            Create,
            Alter,
            Drop,
            Select,
            Modify,
            Authorize,
            Unmask,
            SelectMasked,
        ],
        Resource::Table(_) | Resource::AllTablesInKeyspace(_) => {
            &[Alter, Drop, Select, Modify, Authorize, Unmask, SelectMasked]
        }
        Resource::AllRoles => &[Create, Alter, Drop, Authorize, Describe],
        Resource::Role(_) => &[Alter, Drop, Authorize],
        Resource::AllFunctions | Resource::AllFunctionsInKeyspace(_) => {
            &[Create, Alter, Drop, Authorize, Execute]
        }
        Resource::Function { .. } => &[Alter, Drop, Authorize, Execute],
        Resource::AllMbeans | Resource::Mbean(_) | Resource::Mbeans(_) => {
            &[Authorize, Describe, Execute, Modify, Select]
        }
    }
}

/// Cassandra's class name of a resource (in `filterPermissions`' message).
fn resource_class(resource: &Resource) -> &'static str {
    match resource {
        Resource::AllKeyspaces
        | Resource::Keyspace(_)
        | Resource::Table(_)
        | Resource::AllTablesInKeyspace(_) => "DataResource",
        Resource::AllRoles | Resource::Role(_) => "RoleResource",
        Resource::AllFunctions
        | Resource::AllFunctionsInKeyspace(_)
        | Resource::Function { .. } => "FunctionResource",
        Resource::AllMbeans | Resource::Mbean(_) | Resource::Mbeans(_) => "JMXResource",
    }
}

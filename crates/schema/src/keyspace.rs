//! Keyspaces and user-defined types: [`KeyspaceMetadata`] (name and options),
//! [`UserType`], and [`KeyspaceSchema`] (a keyspace with its tables and types), plus the
//! type-graph helpers DDL needs (does a type refer to a UDT; replace a UDT's definition
//! everywhere it is embedded; UDTs in dependency order).
//!
//! Every keyspace, table and type carries the schema-clock timestamp of its last change
//! ([`KeyspaceSchema::timestamp_micros`], [`KeyspaceSchema::table_stamps`],
//! [`UserType::timestamp_micros`]): what [`crate::merge`] uses to reconcile the schemas of
//! two nodes. Built-in elements and schemas persisted before timestamps existed have
//! timestamp 0.

use std::collections::{BTreeMap, BTreeSet};

use meridian_types::cql_type::{CqlType, UdtType};

use crate::merge::TableStamps;
use crate::replication::Replication;
use crate::table::TableMetadata;

/// A keyspace's name and options.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyspaceMetadata {
    /// Keyspace name.
    pub name: String,
    /// Replication strategy and factors.
    pub replication: Replication,
    /// `durable_writes`: whether writes go through the commit log.
    pub durable_writes: bool,
}

/// A user-defined type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserType {
    /// Keyspace the type belongs to.
    pub keyspace: String,
    /// Type name.
    pub name: String,
    /// Field names and types, in declaration order.
    pub fields: Vec<(String, CqlType)>,
    /// When the type was created (schema clock, microseconds; 0: unknown).
    pub created_micros: i64,
    /// When the type was created or last altered (schema clock, microseconds; 0: unknown).
    pub timestamp_micros: i64,
}

impl UserType {
    /// The type as a [`CqlType`] component (non-frozen; wrap in [`CqlType::Frozen`] for a
    /// frozen UDT).
    pub fn to_udt_type(&self) -> UdtType {
        UdtType {
            keyspace: self.keyspace.clone(),
            name: self.name.clone(),
            fields: self.fields.clone(),
        }
    }

    /// Whether any field refers (directly or nested) to the UDT `name`.
    pub fn references_user_type(&self, name: &str) -> bool {
        self.fields.iter().any(|(_, t)| type_references(t, name))
    }
}

/// A keyspace with its tables and user-defined types.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyspaceSchema {
    /// Name and options.
    pub metadata: KeyspaceMetadata,
    /// Tables by name.
    pub tables: BTreeMap<String, TableMetadata>,
    /// User-defined types by name.
    pub types: BTreeMap<String, UserType>,
    /// When the keyspace was created (schema clock, microseconds; 0: built in or unknown).
    pub created_micros: i64,
    /// When the keyspace's options were last set (`CREATE` / `ALTER KEYSPACE`; schema clock,
    /// microseconds; 0: built in or unknown).
    pub timestamp_micros: i64,
    /// The change timestamps of each table, by table name. A table without an entry has
    /// all-zero stamps ([`TableStamps::default`]): built in, or persisted before timestamps
    /// existed.
    pub table_stamps: BTreeMap<String, TableStamps>,
}

impl KeyspaceSchema {
    /// An empty keyspace.
    pub fn new(metadata: KeyspaceMetadata) -> Self {
        KeyspaceSchema {
            metadata,
            tables: BTreeMap::new(),
            types: BTreeMap::new(),
            created_micros: 0,
            timestamp_micros: 0,
            table_stamps: BTreeMap::new(),
        }
    }

    /// The change timestamps of table `name` (all zero when unknown).
    pub fn table_stamps_of(&self, name: &str) -> TableStamps {
        self.table_stamps.get(name).cloned().unwrap_or_default()
    }

    /// The keyspace name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether this is a virtual keyspace (`system_virtual_schema`, …).
    pub fn is_virtual(&self) -> bool {
        crate::system::is_virtual_keyspace(&self.metadata.name)
    }

    /// The user types in an order where every type comes after the types it uses
    /// (Cassandra's `Types.sortedStream`: depth-first over types in name order).
    pub fn types_in_dependency_order(&self) -> Vec<&UserType> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for t in self.types.values() {
            self.visit_type(t, &mut seen, &mut out, 0);
        }
        out
    }

    fn visit_type<'a>(
        &'a self,
        t: &'a UserType,
        seen: &mut BTreeSet<&'a str>,
        out: &mut Vec<&'a UserType>,
        depth: usize,
    ) {
        if seen.contains(t.name.as_str()) || depth > self.types.len() {
            return;
        }
        for (_, field) in &t.fields {
            let mut deps = Vec::new();
            collect_udt_names(field, &mut deps);
            for dep in deps {
                if let Some(d) = self.types.get(dep) {
                    self.visit_type(d, seen, out, depth + 1);
                }
            }
        }
        if seen.insert(&t.name) {
            out.push(t);
        }
    }
}

/// Names of the UDTs a type refers to, outermost first, in field order.
pub(crate) fn collect_udt_names<'a>(ty: &'a CqlType, out: &mut Vec<&'a str>) {
    match ty {
        CqlType::Udt(u) => {
            for (_, f) in &u.fields {
                collect_udt_names(f, out);
            }
            out.push(&u.name);
        }
        CqlType::List(t) | CqlType::Set(t) | CqlType::Frozen(t) | CqlType::Vector(t, _) => {
            collect_udt_names(t, out)
        }
        CqlType::Map(k, v) => {
            collect_udt_names(k, out);
            collect_udt_names(v, out);
        }
        CqlType::Tuple(ts) => ts.iter().for_each(|t| collect_udt_names(t, out)),
        _ => {}
    }
}

/// Whether `ty` refers to the UDT `name` anywhere.
pub fn type_references(ty: &CqlType, name: &str) -> bool {
    let mut names = Vec::new();
    collect_udt_names(ty, &mut names);
    names.contains(&name)
}

/// `ty` with every embedded definition of the UDT `updated.name` replaced by `updated`
/// (used after `ALTER TYPE`, so that tables and other types see the new fields).
pub(crate) fn replace_udt(ty: &CqlType, updated: &UdtType) -> CqlType {
    let rec = |t: &CqlType| Box::new(replace_udt(t, updated));
    match ty {
        CqlType::Udt(u) if u.name == updated.name => CqlType::Udt(updated.clone()),
        CqlType::Udt(u) => CqlType::Udt(UdtType {
            keyspace: u.keyspace.clone(),
            name: u.name.clone(),
            fields: u
                .fields
                .iter()
                .map(|(n, t)| (n.clone(), replace_udt(t, updated)))
                .collect(),
        }),
        CqlType::List(t) => CqlType::List(rec(t)),
        CqlType::Set(t) => CqlType::Set(rec(t)),
        CqlType::Frozen(t) => CqlType::Frozen(rec(t)),
        CqlType::Vector(t, n) => CqlType::Vector(rec(t), *n),
        CqlType::Map(k, v) => CqlType::Map(rec(k), rec(v)),
        CqlType::Tuple(ts) => CqlType::Tuple(ts.iter().map(|t| replace_udt(t, updated)).collect()),
        other => other.clone(),
    }
}

/// `ty` with user-defined types replaced by tuples of their field types (frozen UDTs become
/// tuples; Cassandra's `expandUserTypes`, used for dropped-column records).
pub(crate) fn expand_user_types(ty: &CqlType) -> CqlType {
    let rec = |t: &CqlType| Box::new(expand_user_types(t));
    match ty {
        CqlType::Udt(u) => {
            CqlType::Tuple(u.fields.iter().map(|(_, t)| expand_user_types(t)).collect())
        }
        CqlType::Frozen(inner) => match inner.as_ref() {
            CqlType::Udt(_) => expand_user_types(inner),
            _ => CqlType::Frozen(rec(inner)),
        },
        CqlType::List(t) => CqlType::List(rec(t)),
        CqlType::Set(t) => CqlType::Set(rec(t)),
        CqlType::Vector(t, n) => CqlType::Vector(rec(t), *n),
        CqlType::Map(k, v) => CqlType::Map(rec(k), rec(v)),
        CqlType::Tuple(ts) => CqlType::Tuple(ts.iter().map(expand_user_types).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udt(name: &str, fields: Vec<(&str, CqlType)>) -> UserType {
        UserType {
            keyspace: "ks".into(),
            name: name.into(),
            fields: fields.into_iter().map(|(n, t)| (n.into(), t)).collect(),
            created_micros: 0,
            timestamp_micros: 0,
        }
    }

    #[test]
    fn dependency_order_puts_used_types_first() {
        let inner = udt("b_inner", vec![("x", CqlType::Int)]);
        let outer = udt(
            "a_outer",
            vec![(
                "i",
                CqlType::Frozen(Box::new(CqlType::Udt(inner.to_udt_type()))),
            )],
        );
        let mut ks = KeyspaceSchema::new(KeyspaceMetadata {
            name: "ks".into(),
            replication: Replication::Simple {
                replication_factor: 1,
            },
            durable_writes: true,
        });
        ks.types.insert(outer.name.clone(), outer.clone());
        ks.types.insert(inner.name.clone(), inner.clone());
        let order: Vec<&str> = ks
            .types_in_dependency_order()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(order, vec!["b_inner", "a_outer"]);
        assert!(outer.references_user_type("b_inner"));
        assert!(!inner.references_user_type("a_outer"));
    }

    #[test]
    fn expansion_and_replacement() {
        let u = udt("u", vec![("x", CqlType::Int), ("y", CqlType::Text)]);
        let frozen = CqlType::Frozen(Box::new(CqlType::Udt(u.to_udt_type())));
        assert_eq!(
            expand_user_types(&CqlType::List(Box::new(frozen.clone()))),
            CqlType::List(Box::new(CqlType::Tuple(vec![CqlType::Int, CqlType::Text])))
        );
        let mut altered = u.to_udt_type();
        altered.fields.push(("z".into(), CqlType::Int));
        let replaced = replace_udt(&frozen, &altered);
        assert_eq!(replaced, CqlType::Frozen(Box::new(CqlType::Udt(altered))));
    }
}

//! Keyspace replication: [`Replication`], parsed from the CQL `replication` map the way
//! Cassandra 5.0 does it (class names short or `org.apache.cassandra.locator.` qualified,
//! `replication_factor` defaults and per-datacenter auto-expansion, datacenters with RF `0`
//! removed, Cassandra's error messages and error classes), and printed back both as the map
//! stored in `system_schema.keyspaces` (full class name) and as the map `DESCRIBE` prints
//! (short class name).
//!
//! Invariant: for every `r`, `Replication::from_map(&r.to_map()) == Ok(r)`.

use std::collections::{BTreeMap, BTreeSet};

use crate::cql::{cql_string_literal, java_parse_int};
use crate::error::SchemaError;

/// Package of Cassandra's built-in replication strategies.
pub const LOCATOR_PACKAGE: &str = "org.apache.cassandra.locator";
/// The `SimpleStrategy` class.
pub const SIMPLE_STRATEGY: &str = "org.apache.cassandra.locator.SimpleStrategy";
/// The `NetworkTopologyStrategy` class.
pub const NETWORK_TOPOLOGY_STRATEGY: &str = "org.apache.cassandra.locator.NetworkTopologyStrategy";
/// The `LocalStrategy` class (system keyspaces only).
pub const LOCAL_STRATEGY: &str = "org.apache.cassandra.locator.LocalStrategy";

/// The `replication_factor` option.
const REPLICATION_FACTOR: &str = "replication_factor";

/// How a keyspace is replicated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Replication {
    /// `SimpleStrategy`: `replication_factor` replicas walking the ring.
    Simple {
        /// Number of replicas.
        replication_factor: u32,
    },
    /// `NetworkTopologyStrategy`: a replica count per datacenter.
    NetworkTopology {
        /// Replicas per datacenter name (never 0: such datacenters are removed).
        datacenters: BTreeMap<String, u32>,
    },
    /// `LocalStrategy`: node-local data (the `system` and `system_schema` keyspaces).
    Local,
}

/// What the cluster knows that replication parsing needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationContext<'a> {
    /// The keyspace being created or altered (for error messages).
    pub keyspace: &'a str,
    /// Datacenters with known nodes. `None`: unknown, so datacenter names are not checked and
    /// `replication_factor` cannot be expanded for `NetworkTopologyStrategy`.
    pub known_datacenters: Option<&'a BTreeSet<String>>,
    /// `default_keyspace_rf` from the node configuration, used when `replication_factor` is
    /// omitted. `None`: the option is required.
    pub default_keyspace_rf: Option<u32>,
    /// The keyspace's current replication, for `ALTER KEYSPACE`.
    pub previous: Option<&'a Replication>,
}

impl Replication {
    /// The fully qualified strategy class name.
    pub fn class_name(&self) -> &'static str {
        match self {
            Replication::Simple { .. } => SIMPLE_STRATEGY,
            Replication::NetworkTopology { .. } => NETWORK_TOPOLOGY_STRATEGY,
            Replication::Local => LOCAL_STRATEGY,
        }
    }

    /// The strategy class name without its package, as `DESCRIBE` prints it.
    pub fn short_class_name(&self) -> &'static str {
        let full = self.class_name();
        full.rsplit('.').next().unwrap_or(full)
    }

    /// The strategy options without `class`, values as strings.
    pub fn options(&self) -> BTreeMap<String, String> {
        match self {
            Replication::Simple { replication_factor } => BTreeMap::from([(
                REPLICATION_FACTOR.to_string(),
                replication_factor.to_string(),
            )]),
            Replication::NetworkTopology { datacenters } => datacenters
                .iter()
                .map(|(dc, rf)| (dc.clone(), rf.to_string()))
                .collect(),
            Replication::Local => BTreeMap::new(),
        }
    }

    /// The map stored in `system_schema.keyspaces.replication`: options plus the fully
    /// qualified `class`.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = self.options();
        map.insert("class".into(), self.class_name().into());
        map
    }

    /// The map as `DESCRIBE` prints it: `{'class': 'SimpleStrategy', 'replication_factor':
    /// '3'}` (short class name first, then the options in name order).
    pub fn to_cql(&self) -> String {
        let mut out = format!("{{'class': {}", cql_string_literal(self.short_class_name()));
        for (k, v) in self.options() {
            out.push_str(", ");
            out.push_str(&cql_string_literal(&k));
            out.push_str(": ");
            out.push_str(&cql_string_literal(&v));
        }
        out.push('}');
        out
    }

    /// Total number of replicas.
    pub fn total_replicas(&self) -> u32 {
        match self {
            Replication::Simple { replication_factor } => *replication_factor,
            Replication::NetworkTopology { datacenters } => datacenters.values().sum(),
            Replication::Local => 1,
        }
    }

    /// Parses a stored replication map (as produced by [`Replication::to_map`] or read from
    /// `system_schema.keyspaces`): no defaults, no expansion, `LocalStrategy` allowed.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Replication, SchemaError> {
        parse(
            map,
            &ReplicationContext {
                keyspace: "",
                known_datacenters: None,
                default_keyspace_rf: None,
                previous: None,
            },
            true,
        )
    }

    /// Parses the `replication` map of `CREATE KEYSPACE` / `ALTER KEYSPACE` with Cassandra
    /// 5.0's defaults and validation. `LocalStrategy` is refused ("reserved for internal
    /// use").
    pub fn from_options(
        options: &BTreeMap<String, String>,
        ctx: &ReplicationContext<'_>,
    ) -> Result<Replication, SchemaError> {
        parse(options, ctx, false)
    }
}

/// Which strategy a class name denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    Simple,
    NetworkTopology,
    Local,
}

fn resolve_class(class: &str) -> Result<Strategy, SchemaError> {
    let full = if class.contains('.') {
        class.to_string()
    } else {
        format!("{LOCATOR_PACKAGE}.{class}")
    };
    match full.as_str() {
        SIMPLE_STRATEGY => Ok(Strategy::Simple),
        NETWORK_TOPOLOGY_STRATEGY => Ok(Strategy::NetworkTopology),
        LOCAL_STRATEGY => Ok(Strategy::Local),
        "org.apache.cassandra.locator.OldNetworkTopologyStrategy" => Err(SchemaError::config(
            "The support for the OldNetworkTopologyStrategy has been removed in C* version 4.0. \
             The keyspace strategy should be switch to NetworkTopologyStrategy",
        )),
        _ => Err(SchemaError::config(format!(
            "Unable to find replication strategy class '{full}'"
        ))),
    }
}

/// Cassandra's `validateReplicationFactor`: a Java integer, non-negative, no transient
/// replicas.
fn parse_replication_factor(value: &str) -> Result<u32, SchemaError> {
    if value.contains('/') {
        return Err(SchemaError::config(
            "Transient replication is disabled. Enable in cassandra.yaml to use.",
        ));
    }
    let rf = java_parse_int(value)
        .ok_or_else(|| SchemaError::config(format!("For input string: \"{value}\"")))?;
    u32::try_from(rf).map_err(|_| {
        SchemaError::config(format!(
            "Replication factor must be non-negative, found {rf}"
        ))
    })
}

fn unrecognized(option: &str, strategy: &str, keyspace: &str) -> SchemaError {
    SchemaError::config(format!(
        "Unrecognized strategy option {{{option}}} passed to {strategy} for keyspace {keyspace}"
    ))
}

fn parse(
    map: &BTreeMap<String, String>,
    ctx: &ReplicationContext<'_>,
    allow_local: bool,
) -> Result<Replication, SchemaError> {
    let mut options = map.clone();
    let class = options
        .remove("class")
        .ok_or_else(|| SchemaError::config("Missing replication strategy class"))?;
    let strategy = resolve_class(&class)?;
    let previous_options = ctx.previous.map(Replication::options).unwrap_or_default();
    match strategy {
        Strategy::Local => {
            if allow_local {
                Ok(Replication::Local)
            } else {
                Err(SchemaError::invalid(
                    "Unable to use given strategy class: LocalStrategy is reserved for internal use.",
                ))
            }
        }
        Strategy::Simple => {
            // prepareOptions: fall back to the previous factor, then to default_keyspace_rf.
            if !options.contains_key(REPLICATION_FACTOR) {
                let default = previous_options
                    .get(REPLICATION_FACTOR)
                    .cloned()
                    .or_else(|| ctx.default_keyspace_rf.map(|rf| rf.to_string()));
                if let Some(rf) = default {
                    options.insert(REPLICATION_FACTOR.into(), rf);
                }
            }
            // validateExpectedOptions, then validateOptions.
            if let Some(other) = options.keys().find(|k| *k != REPLICATION_FACTOR) {
                return Err(unrecognized(other, "SimpleStrategy", ctx.keyspace));
            }
            let rf = options.get(REPLICATION_FACTOR).ok_or_else(|| {
                SchemaError::config("SimpleStrategy requires a replication_factor strategy option.")
            })?;
            Ok(Replication::Simple {
                replication_factor: parse_replication_factor(rf)?,
            })
        }
        Strategy::NetworkTopology => parse_network_topology(options, previous_options, ctx),
    }
}

fn parse_network_topology(
    mut options: BTreeMap<String, String>,
    previous_options: BTreeMap<String, String>,
    ctx: &ReplicationContext<'_>,
) -> Result<Replication, SchemaError> {
    // prepareOptions (CASSANDRA-14303 auto-expansion).
    if options.is_empty() {
        let rf = previous_options
            .get(REPLICATION_FACTOR)
            .cloned()
            .or_else(|| ctx.default_keyspace_rf.map(|rf| rf.to_string()));
        if let Some(rf) = rf {
            options.insert(REPLICATION_FACTOR.into(), rf);
        }
    }
    let mut replication = options.remove(REPLICATION_FACTOR);
    if replication.is_none() && options.is_empty() {
        // A direct ALTER from SimpleStrategy keeps its factor.
        replication = previous_options.get(REPLICATION_FACTOR).cloned();
    } else if replication.is_some() {
        // Auto-expansion never changes the factor of datacenters already configured.
        for (dc, rf) in &previous_options {
            if dc != REPLICATION_FACTOR {
                options.entry(dc.clone()).or_insert_with(|| rf.clone());
            }
        }
    }
    if let Some(rf) = replication {
        let rf = parse_replication_factor(&rf)?.to_string();
        match ctx.known_datacenters {
            Some(dcs) => {
                for dc in dcs {
                    options.entry(dc.clone()).or_insert_with(|| rf.clone());
                }
            }
            None => {
                return Err(SchemaError::config(
                    "replication_factor should not appear as an option to NetworkTopologyStrategy",
                ))
            }
        }
    }
    options.retain(|_, rf| rf != "0");

    // validateExpectedOptions.
    if options.is_empty() {
        return Err(SchemaError::config(
            "Configuration for at least one datacenter must be present",
        ));
    }
    if let Some(known) = ctx.known_datacenters.filter(|k| !k.is_empty()) {
        if let Some(unknown) = options.keys().find(|dc| !known.contains(*dc)) {
            return Err(unrecognized(
                unknown,
                "NetworkTopologyStrategy",
                ctx.keyspace,
            ));
        }
    }
    // validateOptions.
    let mut datacenters = BTreeMap::new();
    for (dc, rf) in &options {
        if dc.eq_ignore_ascii_case(REPLICATION_FACTOR) {
            return Err(SchemaError::config(
                "replication_factor should not appear as an option to NetworkTopologyStrategy",
            ));
        }
        let rf = parse_replication_factor(rf)?;
        if rf > 0 {
            datacenters.insert(dc.clone(), rf);
        }
    }
    if datacenters.is_empty() {
        return Err(SchemaError::config(
            "Configuration for at least one datacenter must be present",
        ));
    }
    Ok(Replication::NetworkTopology { datacenters })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ctx<'a>(dcs: Option<&'a BTreeSet<String>>) -> ReplicationContext<'a> {
        ReplicationContext {
            keyspace: "ks",
            known_datacenters: dcs,
            default_keyspace_rf: Some(1),
            previous: None,
        }
    }

    fn err(map_: &[(&str, &str)]) -> (String, ErrorKind) {
        let dcs = BTreeSet::from(["dc1".to_string(), "dc2".to_string()]);
        let e =
            Replication::from_options(&map(map_), &ctx(Some(&dcs))).expect_err("should be refused");
        (e.to_string(), e.kind())
    }

    #[test]
    fn parses_short_and_qualified_class_names() {
        for class in [
            "SimpleStrategy",
            "org.apache.cassandra.locator.SimpleStrategy",
        ] {
            let r = Replication::from_options(
                &map(&[("class", class), ("replication_factor", "3")]),
                &ctx(None),
            );
            assert_eq!(
                r,
                Ok(Replication::Simple {
                    replication_factor: 3
                })
            );
        }
        let dcs = BTreeSet::from(["dc1".to_string(), "dc2".to_string()]);
        let r = Replication::from_options(
            &map(&[
                ("class", "NetworkTopologyStrategy"),
                ("dc1", "3"),
                ("dc2", "0"),
            ]),
            &ctx(Some(&dcs)),
        );
        assert_eq!(
            r,
            Ok(Replication::NetworkTopology {
                datacenters: BTreeMap::from([("dc1".to_string(), 3)])
            })
        );
    }

    #[test]
    fn defaults_and_expansion() {
        // SimpleStrategy without a factor uses default_keyspace_rf.
        assert_eq!(
            Replication::from_options(&map(&[("class", "SimpleStrategy")]), &ctx(None)),
            Ok(Replication::Simple {
                replication_factor: 1
            })
        );
        // replication_factor expands to every known datacenter.
        let dcs = BTreeSet::from(["dc1".to_string(), "dc2".to_string()]);
        let r = Replication::from_options(
            &map(&[
                ("class", "NetworkTopologyStrategy"),
                ("replication_factor", "2"),
                ("dc2", "5"),
            ]),
            &ctx(Some(&dcs)),
        );
        assert_eq!(
            r,
            Ok(Replication::NetworkTopology {
                datacenters: BTreeMap::from([("dc1".to_string(), 2), ("dc2".to_string(), 5)])
            })
        );
        // ALTER from SimpleStrategy to NTS without options keeps the factor.
        let previous = Replication::Simple {
            replication_factor: 3,
        };
        let r = Replication::from_options(
            &map(&[("class", "NetworkTopologyStrategy")]),
            &ReplicationContext {
                previous: Some(&previous),
                ..ctx(Some(&dcs))
            },
        );
        assert_eq!(
            r,
            Ok(Replication::NetworkTopology {
                datacenters: BTreeMap::from([("dc1".to_string(), 3), ("dc2".to_string(), 3)])
            })
        );
    }

    #[test]
    fn cassandra_errors() {
        assert_eq!(
            err(&[("replication_factor", "1")]),
            (
                "Missing replication strategy class".into(),
                ErrorKind::Config
            )
        );
        assert_eq!(
            err(&[("class", "FooStrategy")]),
            (
                "Unable to find replication strategy class 'org.apache.cassandra.locator.FooStrategy'".into(),
                ErrorKind::Config
            )
        );
        assert_eq!(
            err(&[("class", "LocalStrategy")]),
            (
                "Unable to use given strategy class: LocalStrategy is reserved for internal use."
                    .into(),
                ErrorKind::Invalid
            )
        );
        assert_eq!(
            err(&[("class", "SimpleStrategy"), ("replication_factor", "abc")]).0,
            "For input string: \"abc\""
        );
        assert_eq!(
            err(&[("class", "SimpleStrategy"), ("replication_factor", "-1")]).0,
            "Replication factor must be non-negative, found -1"
        );
        assert_eq!(
            err(&[
                ("class", "SimpleStrategy"),
                ("replication_factor", "3"),
                ("dc1", "1")
            ])
            .0,
            "Unrecognized strategy option {dc1} passed to SimpleStrategy for keyspace ks"
        );
        assert_eq!(
            err(&[("class", "NetworkTopologyStrategy"), ("dc9", "1")]).0,
            "Unrecognized strategy option {dc9} passed to NetworkTopologyStrategy for keyspace ks"
        );
        assert_eq!(
            err(&[("class", "NetworkTopologyStrategy"), ("dc1", "0")]).0,
            "Configuration for at least one datacenter must be present"
        );
        assert_eq!(
            err(&[("class", "NetworkTopologyStrategy"), ("dc1", "3/1")]).0,
            "Transient replication is disabled. Enable in cassandra.yaml to use."
        );
        // Without a default, SimpleStrategy needs its factor.
        let e = Replication::from_map(&map(&[("class", "SimpleStrategy")]));
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err("SimpleStrategy requires a replication_factor strategy option.".to_string())
        );
    }

    #[test]
    fn printing_round_trips() {
        let cases = [
            Replication::Simple {
                replication_factor: 3,
            },
            Replication::NetworkTopology {
                datacenters: BTreeMap::from([("dc1".to_string(), 3), ("DC 2".to_string(), 1)]),
            },
            Replication::Local,
        ];
        for r in cases {
            assert_eq!(Replication::from_map(&r.to_map()), Ok(r.clone()));
        }
        let r = Replication::Simple {
            replication_factor: 3,
        };
        assert_eq!(
            r.to_cql(),
            "{'class': 'SimpleStrategy', 'replication_factor': '3'}"
        );
        assert_eq!(
            r.to_map().get("class").map(String::as_str),
            Some("org.apache.cassandra.locator.SimpleStrategy")
        );
        let nts = Replication::NetworkTopology {
            datacenters: BTreeMap::from([("dc2".to_string(), 1), ("dc1".to_string(), 3)]),
        };
        assert_eq!(
            nts.to_cql(),
            "{'class': 'NetworkTopologyStrategy', 'dc1': '3', 'dc2': '1'}"
        );
        assert_eq!(nts.total_replicas(), 4);
        assert_eq!(Replication::Local.to_cql(), "{'class': 'LocalStrategy'}");
    }
}

//! Builds a token ring from a small line-based description on stdin and prints, as JSON, its
//! nodes, and for each strategy the replicas of every vnode range, of probe tokens and of
//! probe partition keys, plus effective ownership. Used by `tests/ring_vs_driver.py` to
//! compare Meridian's placement with the Python driver's.
//!
//! Input, one directive per line (names without whitespace; `#` starts a comment):
//! ```text
//! node <host-uuid> <dc> <rack> <token>,<token>,...     a node with explicit tokens
//! join <host-uuid> <dc> <rack> <num_tokens> <rf>       a node with allocated tokens
//! strategy <name> <class> [<option>=<value> ...]       a replication strategy
//! probe <token>                                        replicas of a token
//! key <hex bytes>                                      token and replicas of a key
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::io::Read;

use meridian_cluster::ids::HostId;
use meridian_cluster::ring::{
    allocate_tokens, NodeDesc, ReplicaMap, ReplicationStrategy, TokenMetadata,
};
use meridian_types::token::{murmur3_token, Token};

/// Most input accepted (the description is small).
const MAX_INPUT_BYTES: u64 = 16 << 20;

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_hosts(hosts: &[HostId]) -> String {
    let items: Vec<String> = hosts.iter().map(|h| json_string(&h.to_string())).collect();
    format!("[{}]", items.join(","))
}

fn parse_hex(s: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd-length hex {s:?}").into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .ok_or_else(|| "bad hex".into())
                .and_then(|b| u8::from_str_radix(b, 16).map_err(Into::into))
        })
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut input = String::new();
    std::io::stdin()
        .take(MAX_INPUT_BYTES)
        .read_to_string(&mut input)?;
    let mut ring = TokenMetadata::new();
    let mut strategies: Vec<(String, ReplicationStrategy)> = Vec::new();
    let mut probes: Vec<Token> = Vec::new();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("line {}: cannot parse {line:?}", n + 1);
        match words.as_slice() {
            [] => {}
            ["node", host, dc, rack, tokens] => {
                let tokens = tokens
                    .split(',')
                    .map(|t| t.parse::<i64>().map(Token))
                    .collect::<Result<Vec<_>, _>>()?;
                ring.add_or_update(NodeDesc {
                    host_id: HostId(host.parse()?),
                    datacenter: dc.to_string(),
                    rack: rack.to_string(),
                    tokens,
                })?;
            }
            ["join", host, dc, rack, num_tokens, rf] => {
                let tokens = allocate_tokens(&ring, dc, rack, num_tokens.parse()?, rf.parse()?)?;
                ring.add_or_update(NodeDesc {
                    host_id: HostId(host.parse()?),
                    datacenter: dc.to_string(),
                    rack: rack.to_string(),
                    tokens,
                })?;
            }
            ["strategy", name, class, options @ ..] => {
                let mut map = BTreeMap::from([("class".to_string(), class.to_string())]);
                for option in options {
                    let (k, v) = option.split_once('=').ok_or_else(bad)?;
                    map.insert(k.to_string(), v.to_string());
                }
                strategies.push((name.to_string(), ReplicationStrategy::from_options(&map)?));
            }
            ["probe", token] => probes.push(Token(token.parse()?)),
            ["key", hex] => keys.push(parse_hex(hex)?),
            _ => return Err(bad().into()),
        }
    }

    let mut out = String::from("{\"nodes\":[");
    let nodes: Vec<String> = ring
        .nodes()
        .map(|d| {
            let tokens: Vec<String> = d.tokens.iter().map(|t| t.0.to_string()).collect();
            format!(
                "{{\"host_id\":{},\"datacenter\":{},\"rack\":{},\"tokens\":[{}]}}",
                json_string(&d.host_id.to_string()),
                json_string(&d.datacenter),
                json_string(&d.rack),
                tokens.join(",")
            )
        })
        .collect();
    out.push_str(&nodes.join(","));
    out.push_str("],\"strategies\":{");
    let mut first = true;
    for (name, strategy) in &strategies {
        let map = ReplicaMap::build(&ring, strategy);
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(out, "{}:{{\"ranges\":[", json_string(name));
        let ranges: Vec<String> = map
            .ranges()
            .map(|(range, hosts)| format!("[{},{}]", range.end_inclusive.0, json_hosts(hosts)))
            .collect();
        out.push_str(&ranges.join(","));
        out.push_str("],\"probes\":[");
        let probed: Vec<String> = probes
            .iter()
            .map(|t| format!("[{},{}]", t.0, json_hosts(map.replicas_for(*t))))
            .collect();
        out.push_str(&probed.join(","));
        out.push_str("],\"keys\":[");
        let keyed: Vec<String> = keys
            .iter()
            .map(|k| {
                let token = murmur3_token(k);
                format!("[{},{}]", token.0, json_hosts(map.replicas_for(token)))
            })
            .collect();
        out.push_str(&keyed.join(","));
        out.push_str("],\"ownership\":{");
        let owned: Vec<String> = map
            .ownership()
            .iter()
            .map(|(h, o)| format!("{}:{o}", json_string(&h.to_string())))
            .collect();
        out.push_str(&owned.join(","));
        out.push_str("}}");
    }
    out.push_str("}}");
    println!("{out}");
    Ok(())
}

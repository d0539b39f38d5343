//! The Rust `scylla` driver (token-aware, prepared statements) against a spawned `meridian`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;

struct Node {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a node on free ports. A port found free can be taken by another test's connection
/// before the node binds it, so a node that exits before it is ready is started again on
/// other ports (at most three times).
fn start_node() -> Node {
    for _attempt in 0..3 {
        if let Some(node) = try_start_node() {
            return node;
        }
    }
    panic!("meridian exited before it was ready, three times");
}

fn try_start_node() -> Option<Node> {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(["start", "--data-dir"])
        .arg(dir.path())
        .args(["--cql-port", &port.to_string()])
        .args(["--storage-port", &free_port().to_string()])
        .args(["--admin-port", &free_port().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("Meridian is ready") => break,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    Some(Node {
        child,
        port,
        _dir: dir,
    })
}

async fn connect(port: u16) -> Session {
    SessionBuilder::new()
        .known_node(format!("127.0.0.1:{port}"))
        .connection_timeout(Duration::from_secs(10))
        .build()
        .await
        .expect("the scylla driver connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_prepared_statements_and_token_routing() {
    let node = start_node();
    let session = connect(node.port).await;
    session
        .query_unpaged(
            "CREATE KEYSPACE rs WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await
        .unwrap();
    session
        .query_unpaged(
            "CREATE TABLE rs.t (k int, c text, v bigint, PRIMARY KEY (k, c))",
            (),
        )
        .await
        .unwrap();
    session.await_schema_agreement().await.unwrap();
    session.refresh_metadata().await.unwrap();

    let insert = session
        .prepare("INSERT INTO rs.t (k, c, v) VALUES (?, ?, ?)")
        .await
        .unwrap();
    for k in 0..50i32 {
        for c in ["a", "b"] {
            session
                .execute_unpaged(&insert, (k, c, i64::from(k) * 10))
                .await
                .unwrap();
        }
    }
    let select = session
        .prepare("SELECT c, v FROM rs.t WHERE k = ?")
        .await
        .unwrap();
    let rows: Vec<(String, i64)> = session
        .execute_unpaged(&select, (7i32,))
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows::<(String, i64)>()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec![("a".to_string(), 70), ("b".to_string(), 70)]);

    // The driver's token for a key equals the server's token().
    let token = insert
        .calculate_token(&(7i32, "a", 0i64))
        .unwrap()
        .expect("pk_indexes let the driver compute the token")
        .value();
    let (server_token,): (i64,) = session
        .query_unpaged("SELECT token(k) FROM rs.t WHERE k = 7 LIMIT 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row::<(i64,)>()
        .unwrap();
    assert_eq!(token, server_token);

    // Paged prepared read across all partitions.
    let mut all = 0;
    let mut pager = session
        .execute_iter(session.prepare("SELECT k, c FROM rs.t").await.unwrap(), ())
        .await
        .unwrap()
        .rows_stream::<(i32, String)>()
        .unwrap();
    use futures::StreamExt;
    while let Some(row) = pager.next().await {
        row.unwrap();
        all += 1;
    }
    assert_eq!(all, 100);
}

/// The process settings `meridian start` makes for itself (see `main.rs`): transparent huge
/// pages off for the whole process, and the storage engine's flush and compaction threads at
/// a lower CPU priority than the request threads.
#[test]
fn the_node_process_runs_without_huge_pages_and_with_niced_background_threads() {
    let node = start_node();
    let pid = node.child.id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status.lines().any(|l| l == "THP_enabled:\t0"),
        "transparent huge pages still enabled:\n{status}"
    );
    // A new thread names itself, then lowers its priority, once it runs (both from inside the
    // thread), which may be just after the ready line: look again for a while.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let niced = loop {
        let niced = background_threads(pid);
        let settled = niced.len() == 2 && niced.iter().all(|(_, nice)| *nice == 10);
        if settled || std::time::Instant::now() > deadline {
            break niced;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(niced.len(), 2, "{niced:?}");
    assert!(niced.iter().all(|(_, nice)| *nice == 10), "{niced:?}");
}

/// The (name, nice) of the storage engine's flush and compaction threads of process `pid`.
fn background_threads(pid: u32) -> Vec<(String, i32)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = task.unwrap().path();
        // A thread may exit between the listing and the reads.
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        let name = name.trim();
        if name == "meridian-flush" || name.starts_with("meridian-compac") {
            let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
                continue;
            };
            // Fields after the parenthesised name: state is field 3, nice is field 19.
            let after_name = &stat[stat.rfind(')').unwrap() + 2..];
            let nice: i32 = after_name.split(' ').nth(16).unwrap().parse().unwrap();
            found.push((name.to_owned(), nice));
        }
    }
    found
}

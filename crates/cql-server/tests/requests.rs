//! Concurrency, limits and failure isolation of handler requests.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::BytesMut;
use common::*;
use meridian_cql_protocol::*;
use meridian_cql_server::ServerConfig;
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_streams_are_answered_out_of_order() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::ready(server.local_addr()).await;
    const REQUESTS: i16 = 600;
    // Distinct stream ids spread over the whole positive range; every third request sleeps.
    let streams: Vec<i16> = (0..REQUESTS)
        .map(|i| ((i32::from(i) * 97) % 32768) as i16)
        .collect();
    let mut batch = BytesMut::new();
    for (i, stream) in streams.iter().enumerate() {
        let text = if i % 3 == 0 {
            format!("SLEEP 100 s{stream}")
        } else {
            format!("ECHO s{stream}")
        };
        batch.extend_from_slice(&client.encode(*stream, query(&text)));
    }
    client.send_raw(&batch).await;
    let mut order = HashMap::new();
    for position in 0..streams.len() {
        let (stream, response) = client.recv().await;
        assert_eq!(texts(&response), vec![format!("s{}", stream.0)]);
        assert!(
            order.insert(stream.0, position).is_none(),
            "one answer per stream"
        );
    }
    assert_eq!(order.len(), streams.len());
    // The sleeping first request is answered after the quick second one.
    assert!(order[&streams[0]] > order[&streams[1]]);
    let snapshot = server.stats().snapshot();
    assert_eq!(snapshot.requests_handled, REQUESTS as u64);
    assert_eq!(snapshot.requests_in_flight, 0);
}

/// Requests that complete when the reader first polls them are answered in batches; a
/// client that sends a burst and half-closes its side at once still gets every answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_followed_by_end_of_input_is_answered_in_full() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::ready(server.local_addr()).await;
    const REQUESTS: i16 = 300;
    let mut burst = BytesMut::new();
    for stream in 0..REQUESTS {
        burst.extend_from_slice(&client.encode(stream, query(&format!("ECHO s{stream}"))));
    }
    client.send_raw(&burst).await;
    client.socket.shutdown().await.expect("half-close");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..REQUESTS {
        let (stream, response) = client.recv().await;
        assert_eq!(texts(&response), vec![format!("s{}", stream.0)]);
        assert!(seen.insert(stream.0), "one answer per stream");
    }
    client.expect_closed().await;
    assert_eq!(server.stats().snapshot().requests_handled, REQUESTS as u64);
}

/// The reader runs requests itself for at most a millisecond between socket reads; requests
/// after that run in tasks of their own (on other workers when there are any).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_hands_requests_to_tasks_once_its_inline_budget_is_spent() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::ready(server.local_addr()).await;
    let mut burst = BytesMut::new();
    for stream in 0..4 {
        burst.extend_from_slice(&client.encode(stream, query(&format!("BUSY 3 b{stream}"))));
    }
    client.send_raw(&burst).await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..4 {
        let (stream, response) = client.recv().await;
        assert_eq!(texts(&response), vec![format!("b{}", stream.0)]);
        assert!(seen.insert(stream.0));
    }
    let snapshot = server.stats().snapshot();
    assert_eq!(snapshot.requests_handled, 4);
    // The first ran inline for 3 ms; unless TCP split the burst, the other three did not.
    assert!(
        snapshot.requests_in_tasks >= 1,
        "every request ran inline: {snapshot:?}"
    );
    // Requests that complete at once and are few stay with the reader.
    let before = snapshot.requests_in_tasks;
    assert_eq!(
        texts(&client.request(9, query("ECHO quick")).await),
        vec!["quick"]
    );
    assert_eq!(server.stats().snapshot().requests_in_tasks, before);
}

#[tokio::test]
async fn requests_beyond_the_total_limit_are_overloaded() {
    let handler = TestHandler::new();
    let server = start(
        ServerConfig {
            max_concurrent_requests_total: 3,
            ..config()
        },
        handler.clone(),
    )
    .await;
    let mut busy = Client::ready(server.local_addr()).await;
    for stream in 1..=3 {
        busy.send(stream, query(&format!("WAIT w{stream}"))).await;
    }
    handler.wait_entered(3).await;
    let mut other = Client::ready(server.local_addr()).await;
    let (code, message) = error_of(&other.request(9, query("ECHO late")).await);
    assert_eq!(code, ErrorCode::Overloaded);
    assert_eq!(code.code(), 0x1001);
    assert!(message.contains("overloaded"), "{message}");
    assert!(
        message.contains("max_concurrent_requests_total"),
        "{message}"
    );
    assert_eq!(server.stats().snapshot().requests_overloaded, 1);
    assert_eq!(server.stats().requests_in_flight(), 3);
    handler.release(3);
    let mut answered: Vec<String> = Vec::new();
    for _ in 0..3 {
        answered.extend(texts(&busy.recv().await.1));
    }
    answered.sort();
    assert_eq!(answered, vec!["w1", "w2", "w3"]);
    eventually(|| server.stats().requests_in_flight() == 0).await;
    assert_eq!(
        texts(&other.request(10, query("ECHO now")).await),
        vec!["now"]
    );
}

#[tokio::test]
async fn a_full_connection_stops_being_read() {
    let handler = TestHandler::new();
    let server = start(
        ServerConfig {
            max_concurrent_requests_per_connection: 2,
            ..config()
        },
        handler.clone(),
    )
    .await;
    let mut client = Client::ready(server.local_addr()).await;
    let mut batch = BytesMut::new();
    batch.extend_from_slice(&client.encode(1, query("WAIT a")));
    batch.extend_from_slice(&client.encode(2, query("WAIT b")));
    batch.extend_from_slice(&client.encode(3, query("WAIT c")));
    batch.extend_from_slice(&client.encode(4, Request::Options));
    client.send_raw(&batch).await;
    handler.wait_entered(2).await;
    // The third request is not dispatched and nothing behind it is read, not even OPTIONS.
    client.expect_silence(Duration::from_millis(200)).await;
    assert_eq!(handler.entered.load(Ordering::SeqCst), 2);
    // Other connections are not held back.
    let mut other = Client::ready(server.local_addr()).await;
    assert_eq!(
        texts(&other.request(1, query("ECHO free")).await),
        vec!["free"]
    );
    handler.release(1);
    let (stream, _) = client.recv().await;
    assert!(stream == StreamId(1) || stream == StreamId(2));
    handler.wait_entered(3).await;
    let (stream, response) = client.recv().await;
    assert_eq!(stream, StreamId(4), "OPTIONS is read once a slot is free");
    assert!(matches!(response, Response::Supported(_)));
    handler.release(2);
    let mut rest = [client.recv().await.0, client.recv().await.0];
    rest.sort();
    assert_eq!(rest[1], StreamId(3));
}

#[tokio::test]
async fn a_panicking_handler_costs_one_request_not_the_connection() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::ready(server.local_addr()).await;
    let (code, message) = error_of(&client.request(1, query("PANIC")).await);
    assert_eq!(code, ErrorCode::ServerError);
    assert!(message.contains("test handler panic"), "{message}");
    assert_eq!(
        texts(&client.request(2, query("ECHO after")).await),
        vec!["after"]
    );
    let snapshot = server.stats().snapshot();
    assert_eq!(snapshot.handler_panics, 1);
    assert_eq!(snapshot.requests_in_flight, 0);
    assert_eq!(snapshot.error_responses, 1);
}

#[tokio::test]
async fn non_query_requests_reach_the_handler() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::ready(server.local_addr()).await;
    let prepare = Request::Prepare(Prepare {
        query: "SELECT 1".into(),
    });
    assert_eq!(
        client.request(1, prepare).await,
        Response::Result(ResultBody::Void)
    );
    let execute = Request::Execute(Execute {
        id: PreparedId(bytes::Bytes::from_static(&[1, 2, 3])),
        params: QueryParameters::with_consistency(Consistency::Quorum),
    });
    assert_eq!(
        client.request(2, execute).await,
        Response::Result(ResultBody::Void)
    );
    assert_eq!(server.stats().snapshot().requests_handled, 2);
}

#[tokio::test]
async fn clients_vanishing_mid_request_leave_nothing_behind() {
    let handler = TestHandler::new();
    let server = start(config(), handler.clone()).await;
    let mut gone = Client::ready(server.local_addr()).await;
    gone.send(1, query("WAIT orphan")).await;
    gone.send(2, query("SLEEP 50 orphan")).await;
    handler.wait_entered(1).await;
    drop(gone);
    let mut other = Client::ready(server.local_addr()).await;
    assert_eq!(
        texts(&other.request(1, query("ECHO alive")).await),
        vec!["alive"]
    );
    handler.release(1);
    // The orphaned request finishes, its answer is dropped, and its connection is gone.
    eventually(|| handler.finished.load(Ordering::SeqCst) == 1).await;
    eventually(|| {
        let s = server.stats().snapshot();
        s.requests_in_flight == 0 && s.connections_active == 1
    })
    .await;
    drop(other);
    eventually(|| server.stats().connections_active() == 0).await;
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed() {
    let server = start(
        ServerConfig {
            max_connections: 2,
            ..config()
        },
        TestHandler::new(),
    )
    .await;
    let addr = server.local_addr();
    let mut a = Client::ready(addr).await;
    let b = Client::ready(addr).await;
    let mut refused = Client::connect(addr).await;
    refused.send(1, Request::Options).await;
    refused.expect_closed().await;
    assert_eq!(server.stats().snapshot().connections_rejected, 1);
    assert_eq!(texts(&a.request(1, query("ECHO a")).await), vec!["a"]);
    drop(b);
    eventually(|| server.stats().connections_active() < 2).await;
    let mut c = Client::ready(addr).await;
    assert_eq!(texts(&c.request(1, query("ECHO c")).await), vec!["c"]);
}

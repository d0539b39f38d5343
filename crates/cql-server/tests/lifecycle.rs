//! Events, timeouts and graceful shutdown.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use meridian_cql_protocol::*;
use meridian_cql_server::ServerConfig;

fn status_up(last_octet: u8) -> Event {
    Event::StatusChange {
        change: StatusChangeType::Up,
        address: format!("127.0.0.{last_octet}:9042").parse().unwrap(),
    }
}

fn new_node() -> Event {
    Event::TopologyChange {
        change: TopologyChangeType::NewNode,
        address: "127.0.0.9:9042".parse().unwrap(),
    }
}

fn table_created() -> Event {
    Event::SchemaChange(SchemaChange {
        change_type: SchemaChangeType::Created,
        target: SchemaChangeTarget::Table {
            keyspace: "ks".into(),
            table: "t".into(),
        },
    })
}

async fn register(client: &mut Client, stream: i16, types: Vec<EventType>) {
    assert_eq!(
        client.request(stream, Request::Register(types)).await,
        Response::Ready
    );
}

/// The next frame must be an EVENT on stream -1.
async fn expect_event(client: &mut Client) -> Event {
    let (stream, response) = client.recv().await;
    assert_eq!(stream, StreamId::EVENT);
    match response {
        Response::Event(event) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Proves no event is queued before the answer to an OPTIONS sent now.
async fn expect_no_event(client: &mut Client, stream: i16) {
    client.send(stream, Request::Options).await;
    let (got, response) = client.recv().await;
    assert_eq!(got, StreamId(stream), "unexpected {response:?}");
    assert!(matches!(response, Response::Supported(_)));
}

#[tokio::test]
async fn events_reach_only_connections_registered_for_their_type() {
    let server = start(config(), TestHandler::new()).await;
    let addr = server.local_addr();
    let bus = server.event_bus();
    let mut status_and_schema = Client::connect(addr).await;
    status_and_schema.startup(Some(Compression::Lz4)).await;
    register(
        &mut status_and_schema,
        1,
        vec![EventType::StatusChange, EventType::SchemaChange],
    )
    .await;
    let mut topology = Client::ready(addr).await;
    register(&mut topology, 1, vec![EventType::TopologyChange]).await;
    let mut unregistered = Client::ready(addr).await;
    assert_eq!(bus.subscriber_count(), 2);

    assert_eq!(bus.publish(status_up(2)), 2);
    assert_eq!(expect_event(&mut status_and_schema).await, status_up(2));
    expect_no_event(&mut topology, 2).await;
    expect_no_event(&mut unregistered, 2).await;

    bus.publish(new_node());
    assert_eq!(expect_event(&mut topology).await, new_node());
    expect_no_event(&mut status_and_schema, 3).await;

    bus.publish(table_created());
    assert_eq!(expect_event(&mut status_and_schema).await, table_created());
    // REGISTER is cumulative.
    register(&mut topology, 4, vec![EventType::SchemaChange]).await;
    bus.publish(table_created());
    assert_eq!(expect_event(&mut topology).await, table_created());
    assert_eq!(expect_event(&mut status_and_schema).await, table_created());
    expect_no_event(&mut unregistered, 3).await;
    assert_eq!(server.stats().snapshot().events_sent, 5);
}

#[tokio::test]
async fn a_connection_that_falls_behind_the_events_is_disconnected() {
    let server = start(
        ServerConfig {
            event_queue_capacity: 2,
            ..config()
        },
        TestHandler::new(),
    )
    .await;
    let bus = server.event_bus();
    let mut slow = Client::ready(server.local_addr()).await;
    register(&mut slow, 1, vec![EventType::StatusChange]).await;
    // This test runs on a single-threaded runtime: the connection's writer cannot run
    // between these publishes, so it falls more than two events behind.
    for i in 0..10 {
        bus.publish(status_up(i));
    }
    slow.expect_closed().await;
    assert_eq!(server.stats().snapshot().event_lag_disconnects, 1);
    eventually(|| bus.subscriber_count() == 0).await;
    // Publishing never waited for it, and new registrations work.
    let mut fresh = Client::ready(server.local_addr()).await;
    register(&mut fresh, 1, vec![EventType::StatusChange]).await;
    bus.publish(status_up(1));
    assert_eq!(expect_event(&mut fresh).await, status_up(1));
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let handler = TestHandler::new();
    let server = start(
        ServerConfig {
            shutdown_grace_period_ms: 10_000,
            ..config()
        },
        handler.clone(),
    )
    .await;
    let addr = server.local_addr();
    let stats = server.stats();
    let mut busy = Client::ready(addr).await;
    let mut idle = Client::ready(addr).await;
    busy.send(7, query("WAIT in-flight")).await;
    handler.wait_entered(1).await;
    let shutdown = tokio::spawn(server.shutdown());
    // The listener closes: new connections are refused.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "still accepting");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Idle connections are closed; requests sent now are not read.
    idle.expect_closed().await;
    busy.send(8, query("ECHO too late")).await;
    handler.release(1);
    let (stream, response) = busy.recv().await;
    assert_eq!(stream, StreamId(7));
    assert_eq!(texts(&response), vec!["in-flight"]);
    busy.expect_closed().await;
    let report = shutdown.await.unwrap().unwrap();
    assert!(report.drained);
    assert_eq!(report.requests_in_flight_at_start, 1);
    assert_eq!(report.requests_cancelled, 0);
    let snapshot = stats.snapshot();
    assert_eq!(snapshot.connections_active, 0);
    assert_eq!(snapshot.requests_in_flight, 0);
}

#[tokio::test]
async fn shutdown_cancels_what_outlives_the_grace_period() {
    let handler = TestHandler::new();
    let server = start(
        ServerConfig {
            shutdown_grace_period_ms: 200,
            ..config()
        },
        handler.clone(),
    )
    .await;
    let mut stuck = Client::ready(server.local_addr()).await;
    stuck.send(1, query("WAIT forever")).await;
    handler.wait_entered(1).await;
    let stats = server.stats();
    let report = server.shutdown().await.unwrap();
    assert!(!report.drained);
    assert_eq!(report.requests_cancelled, 1);
    assert!(report.elapsed_ms >= 200);
    stuck.expect_closed().await;
    assert_eq!(
        handler.finished.load(Ordering::SeqCst),
        0,
        "handler future dropped"
    );
    assert_eq!(stats.snapshot().requests_in_flight, 0);
    assert_eq!(stats.snapshot().connections_active, 0);
}

#[tokio::test]
async fn shutdown_through_a_handle_and_run_future() {
    let server = meridian_cql_server::CqlServer::bind(config(), TestHandler::new())
        .await
        .unwrap();
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run(async {
        let _ = stop_rx.await;
    }));
    let mut client = Client::ready(addr).await;
    assert_eq!(
        texts(&client.request(1, query("ECHO up")).await),
        vec!["up"]
    );
    assert!(!handle.is_shutdown_requested());
    stop_tx.send(()).unwrap();
    let report = run.await.unwrap();
    assert!(report.drained);
    client.expect_closed().await;
    assert!(handle.is_shutdown_requested());
}

#[tokio::test]
async fn idle_and_unfinished_handshake_connections_are_closed() {
    let server = start(
        ServerConfig {
            idle_timeout_ms: Some(300),
            handshake_timeout_ms: Some(300),
            ..config()
        },
        TestHandler::new(),
    )
    .await;
    let addr = server.local_addr();
    // No STARTUP: closed by the handshake timeout even while sending heartbeats.
    let mut no_startup = Client::connect(addr).await;
    for stream in 0..2 {
        assert!(matches!(
            no_startup.request(stream, Request::Options).await,
            Response::Supported(_)
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    no_startup.expect_closed().await;
    // Heartbeats keep a ready connection open past the idle timeout...
    let mut active = Client::ready(addr).await;
    for stream in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(matches!(
            active.request(stream, Request::Options).await,
            Response::Supported(_)
        ));
    }
    // ...and silence closes it.
    let started = tokio::time::Instant::now();
    active.expect_closed().await;
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn a_long_request_is_not_idleness() {
    let server = start(
        ServerConfig {
            idle_timeout_ms: Some(100),
            ..config()
        },
        TestHandler::new(),
    )
    .await;
    let mut client = Client::ready(server.local_addr()).await;
    assert_eq!(
        texts(&client.request(1, query("SLEEP 400 slow")).await),
        vec!["slow"]
    );
    client.expect_closed().await;
}

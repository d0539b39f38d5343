//! Deterministic simulation tests of internode messaging on turmoil's simulated TCP: the
//! production code paths (handshake, lanes, liveness, reconnection) under scripted network
//! partitions, replayable from the seed.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::sim::TurmoilNetwork;
use super::*;
use crate::ids::HostId;

const PORT: u16 = 7000;
const ECHO: Verb = Verb(1);
const SEED: u64 = 0x5eed_0001;

struct Echo;

impl MessageHandler for Echo {
    fn handle(
        &self,
        _from: Peer,
        verb: Verb,
        body: Bytes,
    ) -> BoxFuture<'static, Result<Bytes, RemoteError>> {
        Box::pin(async move {
            match verb {
                ECHO => Ok(body),
                verb => Err(RemoteError::unknown_verb(verb)),
            }
        })
    }

    fn handle_oneway(&self, _from: Peer, _verb: Verb, _body: Bytes) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// A node's configuration inside the simulation: bound on all addresses, announcing the
/// simulated host's address.
fn sim_config(host_name: &str, id: u128) -> NetConfig {
    let mut config = NetConfig::new(
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT)),
        "sim",
        HostId(uuid::Uuid::from_u128(id)),
    );
    config.broadcast_address = Some(SocketAddr::new(turmoil::lookup(host_name), PORT));
    config.connect_timeout = Duration::from_secs(1);
    config.liveness_timeout = Duration::from_secs(2);
    config.reconnect_backoff_min = Duration::from_millis(50);
    config.reconnect_backoff_max = Duration::from_millis(500);
    config.fault_seed = SEED;
    config
}

/// Requests until one succeeds, within `limit` of simulated time.
async fn until_answered(
    messaging: &Messaging,
    to: SocketAddr,
    body: &'static [u8],
    limit: Duration,
) -> Result<Bytes, String> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match messaging
            .request(
                to,
                ECHO,
                Bytes::from_static(body),
                Duration::from_millis(500),
            )
            .await
        {
            Ok(answer) => return Ok(answer),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("no answer within {limit:?}: {e}"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[test]
fn request_response_across_partitions_in_simulation() {
    let mut sim = turmoil::Builder::new()
        .simulation_duration(Duration::from_secs(120))
        .rng_seed(SEED)
        .build();

    sim.host("server", || async {
        let messaging = Messaging::start(
            sim_config("server", 1),
            Arc::new(TurmoilNetwork),
            Arc::new(Echo),
        )
        .await?;
        // Serve until the simulation ends.
        std::future::pending::<()>().await;
        drop(messaging);
        Ok(())
    });

    sim.client("client", async {
        let messaging = Messaging::start(
            sim_config("client", 2),
            Arc::new(TurmoilNetwork),
            Arc::new(Echo),
        )
        .await?;
        let server = SocketAddr::new(turmoil::lookup("server"), PORT);

        for i in 0..20u8 {
            let body = Bytes::from(vec![i; usize::from(i) * 1000]);
            let answer = messaging
                .request(server, ECHO, body.clone(), Duration::from_secs(2))
                .await?;
            assert_eq!(answer, body);
        }
        // A bulk-lane round trip too.
        let large = Bytes::from(vec![9u8; 200 * 1024]);
        assert_eq!(
            messaging
                .request(server, ECHO, large.clone(), Duration::from_secs(5))
                .await?,
            large
        );

        // A network partition: requests time out...
        turmoil::partition("client", "server");
        let error = messaging
            .request(
                server,
                ECHO,
                Bytes::from_static(b"lost"),
                Duration::from_millis(500),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, NetError::Timeout { .. }), "{error:?}");
        // ...and after it heals, the connection that lost segments is detected as dead and
        // replaced.
        turmoil::repair("client", "server");
        let answer = until_answered(&messaging, server, b"back", Duration::from_secs(30)).await?;
        assert_eq!(&answer[..], b"back");
        assert!(messaging.stats().peers[&server].connects >= 3);

        // The fault layer's partition works the same inside the simulation.
        messaging.faults().partition(server);
        let error = messaging
            .request(
                server,
                ECHO,
                Bytes::from_static(b"cut"),
                Duration::from_millis(300),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, NetError::Timeout { .. }), "{error:?}");
        messaging.faults().heal(server);
        let answer = until_answered(&messaging, server, b"healed", Duration::from_secs(10)).await?;
        assert_eq!(&answer[..], b"healed");

        messaging.shutdown().await;
        Ok(())
    });

    sim.run().expect("simulation");
}

#[test]
fn a_crashed_and_restarted_peer_is_reached_again_in_simulation() {
    let mut sim = turmoil::Builder::new()
        .simulation_duration(Duration::from_secs(120))
        .rng_seed(SEED)
        .build();

    sim.host("server", || async {
        let messaging = Messaging::start(
            sim_config("server", 1),
            Arc::new(TurmoilNetwork),
            Arc::new(Echo),
        )
        .await?;
        std::future::pending::<()>().await;
        drop(messaging);
        Ok(())
    });

    sim.client("client", async {
        let messaging = Messaging::start(
            sim_config("client", 2),
            Arc::new(TurmoilNetwork),
            Arc::new(Echo),
        )
        .await?;
        let server = SocketAddr::new(turmoil::lookup("server"), PORT);
        let answer = until_answered(&messaging, server, b"first", Duration::from_secs(10)).await?;
        assert_eq!(&answer[..], b"first");
        // Give the test body below time to crash and restart the server.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let answer = until_answered(&messaging, server, b"second", Duration::from_secs(30)).await?;
        assert_eq!(&answer[..], b"second");
        assert!(messaging.stats().peers[&server].connects >= 3);
        Ok(())
    });

    // Run until the client has its first answer, then crash and restart the server.
    while sim.elapsed() < Duration::from_secs(2) {
        sim.step().expect("step");
    }
    sim.bounce("server");
    sim.run().expect("simulation");
}

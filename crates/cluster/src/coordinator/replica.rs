//! The replica side: verbs other nodes send to this one (apply, forward, read, range read,
//! hint, truncate), and the hand-off of extension verbs to the layer above.
//!
//! Storage work runs on the blocking pool, never on the async workers. Bodies are
//! untrusted: malformed ones are answered with an error.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use meridian_storage::TryApplyError;
use meridian_types::model::decode_mutation;
use meridian_types::token::PartitionKey;

use super::messages::*;
use super::range::{local_range, range_answer_body};
use super::{run_storage, Coordinator};
use crate::net::{MessageHandler, Peer, RemoteError, RemoteErrorKind, Verb};

/// Handles verbs from [`FIRST_EXTENSION_VERB`] up (schema exchange and the like).
pub trait ExtensionHandler: Send + Sync + 'static {
    /// Answers a request.
    fn handle(
        &self,
        from: Peer,
        verb: Verb,
        body: Bytes,
    ) -> BoxFuture<'static, Result<Bytes, String>>;
}

fn remote(message: impl Into<String>) -> RemoteError {
    RemoteError::new(RemoteErrorKind::Internal, message.into())
}

/// The coordinator as the messaging service's handler.
///
/// It holds the coordinator weakly: the coordinator owns its messaging, which owns this
/// handler, and a strong reference would keep both alive forever.
pub(crate) struct ReplicaHandler(pub(crate) std::sync::Weak<Coordinator>);

impl Coordinator {
    /// Applies an encoded mutation locally: on this thread when the engine can do so
    /// without waiting, else on the blocking pool (as the coordinator's own share of a
    /// write, see `apply_local`).
    async fn apply_encoded(self: &Arc<Self>, body: Bytes) -> Result<(), String> {
        let engine = &self.engine;
        let decoded = decode_mutation(body, &|t| engine.comparator(t).ok())
            .map_err(|e| format!("malformed mutation: {e}"))?;
        if !decoded.unknown_tables.is_empty() {
            tracing::debug!(tables = ?decoded.unknown_tables, "mutation for unknown tables skipped");
        }
        if decoded.mutation.updates.is_empty() {
            return Ok(());
        }
        let mutation = match engine.try_apply(decoded.mutation) {
            Ok(()) => return Ok(()),
            Err(TryApplyError::Failed(e)) => return Err(e.to_string()),
            Err(TryApplyError::WouldBlock(mutation)) => mutation,
        };
        let engine = engine.clone();
        run_storage(self.config.storage_inline, move || {
            engine.apply(mutation).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("apply task failed: {e}"))?
    }

    async fn handle_forward(self: Arc<Self>, body: Bytes) -> Result<Bytes, String> {
        let fwd: ForwardedMutation = from_body(&body)?;
        let mutation = Bytes::from(fwd.mutation);
        let messaging = self.messaging_or_err().map_err(|e| e.to_string())?.clone();
        let timeout = self.config.write_timeout;
        for (host, addr) in fwd.forward_to {
            let messaging = messaging.clone();
            let m = mutation.clone();
            let reply_to = fwd.reply_to;
            let write_id = fwd.write_id;
            tokio::spawn(async move {
                let applied = messaging
                    .request(addr, VERB_MUTATION, m, timeout)
                    .await
                    .is_ok();
                let ack = to_body(&WriteAck {
                    write_id,
                    replica: host,
                    applied,
                });
                if applied {
                    if let Err(e) = messaging.send_oneway(reply_to, VERB_WRITE_ACK, ack) {
                        tracing::debug!(error = %e, "forwarded acknowledgement not sent");
                    }
                }
            });
        }
        self.apply_encoded(mutation).await?;
        Ok(Bytes::new())
    }

    async fn handle_read(self: Arc<Self>, body: Bytes) -> Result<Bytes, String> {
        let req: ReadRequest = from_body(&body)?;
        let table = table_id(req.table);
        let key = PartitionKey::new(Bytes::from(req.key));
        let slices = WireSlice::decode(&req.slices);
        let engine = self.engine.clone();
        let digest_only = req.digest_only;
        run_storage(self.config.storage_inline, move || {
            let p = engine
                .read(table, &key, &slices)
                .map_err(|e| e.to_string())?;
            let resp = if digest_only {
                ReadResponse::Digest(digest_of(p.as_ref()))
            } else {
                ReadResponse::Data(p.filter(|p| !p.is_empty()).map(|p| partition_bytes(&p)))
            };
            Ok(to_body(&resp))
        })
        .await
        .map_err(|e| format!("read task failed: {e}"))?
    }

    async fn handle_range(self: Arc<Self>, body: Bytes) -> Result<Bytes, String> {
        let req: RangeReadRequest = from_body(&body)?;
        let engine = self.engine.clone();
        run_storage(self.config.storage_inline, move || {
            let answer = local_range(
                &engine,
                table_id(req.table),
                req.start.decode(),
                req.end.decode(),
                req.max_partitions,
                req.max_bytes.min(super::range::RANGE_READ_MAX_BYTES),
            )
            .map_err(|e| e.to_string())?;
            Ok(range_answer_body(answer))
        })
        .await
        .map_err(|e| format!("range read task failed: {e}"))?
    }

    async fn handle_truncate(self: Arc<Self>, body: Bytes) -> Result<Bytes, String> {
        let id: [u8; 16] = body
            .as_ref()
            .try_into()
            .map_err(|_| "malformed truncate body".to_string())?;
        let engine = self.engine.clone();
        run_storage(self.config.storage_inline, move || {
            engine.truncate(table_id(id)).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("truncate task failed: {e}"))??;
        Ok(Bytes::new())
    }
}

impl MessageHandler for ReplicaHandler {
    fn handle(
        &self,
        from: Peer,
        verb: Verb,
        body: Bytes,
    ) -> BoxFuture<'static, Result<Bytes, RemoteError>> {
        let Some(this) = self.0.upgrade() else {
            return Box::pin(async {
                Err(RemoteError::new(
                    RemoteErrorKind::Internal,
                    "the node is shutting down",
                ))
            });
        };
        Box::pin(async move {
            let r = match verb {
                VERB_MUTATION | VERB_HINT => this.apply_encoded(body).await.map(|_| Bytes::new()),
                VERB_MUTATION_FORWARD => this.handle_forward(body).await,
                VERB_READ => this.handle_read(body).await,
                VERB_RANGE_READ => this.handle_range(body).await,
                VERB_TRUNCATE => this.handle_truncate(body).await,
                super::batchlog::VERB_BATCH_STORE => this.handle_batch_store(body).await,
                v if v.0 >= FIRST_EXTENSION_VERB => match this.extension.get() {
                    Some(h) => h.handle(from, v, body).await,
                    None => Err(format!("no handler for verb {}", v.0)),
                },
                v => Err(format!("unknown verb {}", v.0)),
            };
            r.map_err(remote)
        })
    }

    fn handle_oneway(&self, _from: Peer, verb: Verb, body: Bytes) -> BoxFuture<'static, ()> {
        if verb == super::batchlog::VERB_BATCH_REMOVE {
            if let Some(c) = self.0.upgrade() {
                c.handle_batch_remove(&body);
            }
        } else if verb == VERB_WRITE_ACK {
            match from_body::<WriteAck>(&body) {
                Ok(ack) if ack.applied => {
                    if let Some(c) = self.0.upgrade() {
                        c.forwarded_ack(ack.write_id, ack.replica);
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "malformed write acknowledgement"),
            }
        }
        Box::pin(async {})
    }
}

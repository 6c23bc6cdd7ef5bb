//! The Redis backend. Per queue kind, under one hash tag (cluster safe):
//! `ready` (zset, score = due time), `reserved` (zset, score = visibility
//! deadline), `dead` (zset), `age` (zset of unfinished jobs by enqueue time)
//! and hashes for payloads, attempts and errors. Every state change is one
//! Lua script, so a job is always in exactly one of ready/reserved/dead.

use crate::{DeadJob, Reserved, Result, Stats, ms, now_ms};
use redis::Script;
use redis::aio::ConnectionManager;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
    keys: Arc<Keys>,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisQueue({})", self.keys.ready)
    }
}

struct Keys {
    ready: String,
    reserved: String,
    dead: String,
    age: String,
    payload: String,
    attempts: String,
    errors: String,
    seq: String,
}

impl Keys {
    fn all(&self) -> [&str; 8] {
        [&self.ready, &self.reserved, &self.dead, &self.age, &self.payload, &self.attempts, &self.errors, &self.seq]
    }
}

static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local id = redis.call('INCR', KEYS[8])
redis.call('HSET', KEYS[5], id, ARGV[1])
redis.call('HSET', KEYS[6], id, 0)
redis.call('ZADD', KEYS[1], ARGV[2], id)
redis.call('ZADD', KEYS[4], ARGV[3], id)
return id",
    )
});

static ENQUEUE_MANY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"for i = 2, #ARGV do
  local id = redis.call('INCR', KEYS[8])
  redis.call('HSET', KEYS[5], id, ARGV[i])
  redis.call('HSET', KEYS[6], id, 0)
  redis.call('ZADD', KEYS[1], ARGV[1], id)
  redis.call('ZADD', KEYS[4], ARGV[1], id)
end
return #ARGV - 1",
    )
});

// Reaps expired reservations (crashed workers) back to ready, then hands out due jobs.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], now, id)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
  local n = redis.call('HINCRBY', KEYS[6], id, 1)
  table.insert(out, id)
  table.insert(out, redis.call('HGET', KEYS[5], id) or '')
  table.insert(out, n)
end
return out",
    )
});

static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"for _, id in ipairs(ARGV) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
  redis.call('HDEL', KEYS[7], id)
end
return #ARGV",
    )
});

static FAIL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[7], ARGV[1], ARGV[2])
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
end
return 1",
    )
});

static RETRY_DEAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local ids = redis.call('ZRANGE', KEYS[3], 0, -1)
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[1], ARGV[1], id)
  redis.call('ZADD', KEYS[4], ARGV[1], id)
  redis.call('HSET', KEYS[6], id, 0)
end
return #ids",
    )
});

impl RedisQueue {
    /// A queue of `kind` under `prefix` (tests use a prefix of their own).
    pub async fn connect(url: &str, prefix: &str, kind: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_connection_timeout(Some(Duration::from_secs(5)));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self::with_connection(conn, prefix, kind))
    }

    pub fn with_connection(conn: ConnectionManager, prefix: &str, kind: &str) -> Self {
        let tag = format!("{prefix}{{jobs:{kind}}}");
        let k = |s: &str| format!("{tag}:{s}");
        let keys = Keys {
            ready: k("ready"),
            reserved: k("reserved"),
            dead: k("dead"),
            age: k("age"),
            payload: k("payload"),
            attempts: k("attempts"),
            errors: k("errors"),
            seq: k("seq"),
        };
        Self { conn, keys: Arc::new(keys) }
    }

    fn invoke<'a>(&self, script: &'a Script) -> redis::ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        for key in self.keys.all() {
            inv.key(key);
        }
        inv
    }

    pub(crate) async fn enqueue(&self, payload: &str, delay: Duration) -> Result<String> {
        let now = now_ms();
        let mut conn = self.conn.clone();
        let id: i64 = self.invoke(&ENQUEUE).arg(payload).arg(now + ms(delay)).arg(now).invoke_async(&mut conn).await?;
        Ok(id.to_string())
    }

    pub(crate) async fn enqueue_many(&self, payloads: &[String]) -> Result<()> {
        let mut conn = self.conn.clone();
        for chunk in payloads.chunks(500) {
            let mut inv = self.invoke(&ENQUEUE_MANY);
            inv.arg(now_ms());
            for p in chunk {
                inv.arg(p);
            }
            let _: i64 = inv.invoke_async(&mut conn).await?;
        }
        Ok(())
    }

    pub(crate) async fn reserve(&self, visibility: Duration, max: usize) -> Result<Vec<Reserved>> {
        let mut conn = self.conn.clone();
        let flat: Vec<redis::Value> =
            self.invoke(&RESERVE).arg(now_ms()).arg(ms(visibility)).arg(max).invoke_async(&mut conn).await?;
        let mut out = Vec::with_capacity(flat.len() / 3);
        for chunk in flat.chunks_exact(3) {
            let id: String = redis::from_redis_value_ref(&chunk[0])?;
            let payload: String = redis::from_redis_value_ref(&chunk[1])?;
            let attempts: i64 = redis::from_redis_value_ref(&chunk[2])?;
            out.push(Reserved { id, payload, attempts: u32::try_from(attempts).unwrap_or(u32::MAX) });
        }
        Ok(out)
    }

    pub(crate) async fn ack(&self, id: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = self.invoke(&ACK).arg(id).invoke_async(&mut conn).await?;
        Ok(())
    }

    pub(crate) async fn ack_many(&self, ids: &[&str]) -> Result<()> {
        let mut conn = self.conn.clone();
        let mut inv = self.invoke(&ACK);
        for id in ids {
            inv.arg(*id);
        }
        let _: i64 = inv.invoke_async(&mut conn).await?;
        Ok(())
    }

    pub(crate) async fn fail(&self, id: &str, error: &str, dead: bool, delay: Duration) -> Result<()> {
        let at = if dead { now_ms() } else { now_ms() + ms(delay) };
        let mut conn = self.conn.clone();
        let _: i64 = self
            .invoke(&FAIL)
            .arg(id)
            .arg(error)
            .arg(if dead { "1" } else { "0" })
            .arg(at)
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }

    pub(crate) async fn stats(&self) -> Result<Stats> {
        let mut conn = self.conn.clone();
        let now = now_ms();
        let (ready, reserved_expired, reserved, dead, oldest): (u64, u64, u64, u64, Vec<(String, f64)>) = redis::pipe()
            .zcard(&self.keys.ready)
            .zcount(&self.keys.reserved, "-inf", now)
            .zcard(&self.keys.reserved)
            .zcard(&self.keys.dead)
            .zrange_withscores(&self.keys.age, 0, 0)
            .query_async(&mut conn)
            .await?;
        Ok(Stats {
            // Reservations past their deadline are ready again (as in the SQL backend).
            ready: ready + reserved_expired,
            reserved: reserved - reserved_expired,
            dead,
            oldest_age_secs: oldest.first().map(|(_, t)| u64::try_from((now - *t as i64).max(0) / 1000).unwrap_or(0)),
        })
    }

    pub(crate) async fn dead(&self, limit: u64) -> Result<Vec<DeadJob>> {
        let mut conn = self.conn.clone();
        let stop = isize::try_from(limit).unwrap_or(isize::MAX).saturating_sub(1);
        let ids: Vec<String> =
            redis::cmd("ZRANGE").arg(&self.keys.dead).arg(0).arg(stop).query_async(&mut conn).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (payload, attempts, last_error): (Option<String>, Option<i64>, Option<String>) = redis::pipe()
                .hget(&self.keys.payload, &id)
                .hget(&self.keys.attempts, &id)
                .hget(&self.keys.errors, &id)
                .query_async(&mut conn)
                .await?;
            out.push(DeadJob {
                id,
                payload: payload.unwrap_or_default(),
                attempts: attempts.and_then(|a| u32::try_from(a).ok()).unwrap_or(0),
                last_error,
            });
        }
        Ok(out)
    }

    pub(crate) async fn retry_dead(&self) -> Result<u64> {
        let mut conn = self.conn.clone();
        let n: u64 = self.invoke(&RETRY_DEAD).arg(now_ms()).invoke_async(&mut conn).await?;
        Ok(n)
    }
}

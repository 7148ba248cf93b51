//! Process registries (as Elixir's `Registry`): a local key-value store of
//! processes, with unique or duplicate keys, read without going through a process.
//!
//! # Design
//!
//! 1. [`Registry::start_link`] starts the registry process (a [`GenServer`](crate::GenServer),
//!    named, so it can live under a supervisor) and returns a [`Registry`] handle:
//!    an `Arc` of the table, shared by every client. [`Registry::whereis`] finds
//!    the handle from the registry's name.
//! 2. The table has `N` partitions chosen by the key's hash, each a
//!    `RwLock<HashMap>`, plus a pid index (see `table`). Lookups, `dispatch`,
//!    `keys` and `count` read it directly, as Elixir reads its ETS tables: no
//!    message, no process.
//! 3. [`Registry::register`] registers the calling process: it first tells the
//!    registry process to monitor it (once per process, by a cast sent before the
//!    entry exists, so a process dying at any point after is seen), then writes the
//!    entry itself. The entry is visible to every process when `register` returns.
//! 4. The registry process removes a process's entries on its `Down`. Until then
//!    reads skip entries of dead processes ([`is_alive`]), so once a process's
//!    `Down` has been received anywhere its entries are gone for readers; a unique
//!    key of a dead process can be registered again at once, and the old process's
//!    `Down` does not remove the new entry (entries are matched by pid).
//! 5. A process that unregisters its last key asks the registry process to
//!    demonitor it.
//! 6. When the registry process ends, its table is closed and emptied: reads
//!    return nothing and `register` fails with [`RegistryError::NotRunning`].
//! 7. A unique key names a server: [`Registry::via`] makes a [`Name`] for
//!    `StartOptions::name` and `call_named`/`cast_named`.
//!
//! # Departures from Elixir
//!
//! - Partitions are chosen by key for both kinds of registry (Elixir partitions a
//!   duplicate registry by pid): a lookup reads one partition, and many processes
//!   registering under one duplicate key contend on that partition.
//! - `count` may include entries of processes that died and whose `Down` the
//!   registry has not handled yet; lookups never return them.
//! - Registered processes are monitored, not linked: a registry's death does not
//!   take them down.
//! - `select`, `match` and `meta` are not provided.
//!
//! # Example
//!
//! ```
//! use beamlet::otp::registry::{Keys, Registry};
//! use beamlet::{receive, self_pid, send, spawn, Runtime};
//!
//! let rt = Runtime::builder().build().unwrap();
//! rt.block_on(|| {
//!     let reg = Registry::<String, u32>::start_link("pubsub", Keys::Duplicate, 2).unwrap();
//!     let me = self_pid();
//!     for n in 0..3u32 {
//!         let reg = reg.clone();
//!         spawn(move || {
//!             reg.register("news".into(), n).unwrap();
//!             send(me, ()).unwrap();
//!             let text: &str = receive();
//!             send(me, format!("{n} got {text}")).unwrap();
//!         }).unwrap();
//!     }
//!     for _ in 0..3 { receive::<()>(); }
//!     let sent = reg.dispatch("news", |subs| for (pid, _) in subs { send(*pid, "hello").unwrap(); });
//!     assert_eq!(sent, 3);
//!     let mut got: Vec<String> = (0..3).map(|_| receive()).collect();
//!     got.sort();
//!     assert_eq!(got, ["0 got hello", "1 got hello", "2 got hello"]);
//! }).unwrap();
//! rt.shutdown();
//! ```

mod server;
mod table;

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use beamlet_runtime::{Pid, is_alive, self_pid};

use crate::behaviour::{StartError, StartOptions};
use crate::gen_server::{self, ServerRef};
use crate::name::{Name, NameError, ViaName};
use crate::supervisor::ChildSpec;
use server::{Note, RegistryServer, table_of};
use table::Table;

/// Whether a key has at most one process or any number.
///
/// ```
/// use beamlet::otp::registry::Keys;
/// assert_ne!(Keys::Unique, Keys::Duplicate);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keys {
    /// At most one process per key (names).
    Unique,
    /// Any number of entries per key, even several of one process (pub/sub).
    Duplicate,
}

/// Why a registration failed.
///
/// ```
/// use beamlet::otp::registry::RegistryError;
/// assert_eq!(RegistryError::NotRunning.to_string(), "the registry is not running");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// The unique key is held by this live process (maybe the caller itself).
    AlreadyRegistered(Pid),
    /// The registry process has ended.
    NotRunning,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::AlreadyRegistered(p) => write!(f, "the key is registered to {p}"),
            RegistryError::NotRunning => f.write_str("the registry is not running"),
        }
    }
}

impl std::error::Error for RegistryError {}

/// A handle on a running registry: cheap to clone, usable from any process.
///
/// See the [module](self) for the design and an example.
pub struct Registry<K, V> {
    table: Arc<Table<K, V>>,
}

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            table: self.table.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Registry<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("pid", &self.table.owner())
            .field("keys", &self.table.kind())
            .field("partitions", &self.table.partitions())
            .finish()
    }
}

impl<K, V> Registry<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Starts a registry process linked to the caller, registered as `name` (a
    /// local name as `&str`, or any [`Name`]), with `partitions` partitions (at
    /// least one; about the number of schedulers suits concurrent writers).
    ///
    /// # Errors
    ///
    /// [`StartError::AlreadyStarted`] if the name is taken.
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// use beamlet::otp::gen_server::StartError;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<u32, ()>::start_link("ids", Keys::Unique, 4).unwrap();
    ///     assert_eq!(reg.partitions(), 4);
    ///     let again = Registry::<u32, ()>::start_link("ids", Keys::Unique, 4).unwrap_err();
    ///     assert_eq!(again, StartError::AlreadyStarted(reg.pid()));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    #[track_caller]
    pub fn start_link(
        name: impl Into<Name>,
        keys: Keys,
        partitions: usize,
    ) -> Result<Registry<K, V>, StartError> {
        let table = Arc::new(Table::new(keys, partitions));
        let opts = StartOptions::new().name(name);
        gen_server::start_link_with::<RegistryServer<K, V>>(table.clone(), opts)?;
        Ok(Registry { table })
    }

    /// A child spec (id: the name) starting this registry under a supervisor.
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// use beamlet::otp::supervisor::{self, SupervisorFlags};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let spec = Registry::<String, ()>::child_spec("names", Keys::Unique, 1);
    ///     supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
    ///     assert!(Registry::<String, ()>::whereis("names").is_some());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn child_spec(name: impl Into<Name>, keys: Keys, partitions: usize) -> ChildSpec {
        let name = name.into();
        ChildSpec::worker(name.to_string(), move || {
            Registry::<K, V>::start_link(name.clone(), keys, partitions).map(|r| r.pid())
        })
    }

    /// The running registry registered as `name`, if it has these key and value
    /// types.
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<u32, ()>::start_link("r", Keys::Unique, 1).unwrap();
    ///     assert_eq!(Registry::<u32, ()>::whereis("r").map(|r| r.pid()), Some(reg.pid()));
    ///     assert!(Registry::<String, ()>::whereis("r").is_none());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn whereis(name: impl Into<Name>) -> Option<Registry<K, V>> {
        let pid = name.into().whereis()?;
        table_of::<K, V>(pid).map(|table| Registry { table })
    }

    /// The registry process. See [`Registry::start_link`].
    pub fn pid(&self) -> Pid {
        self.table.owner()
    }

    /// Unique or duplicate keys.
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// let k = rt.block_on(|| Registry::<u8, ()>::start_link("k", Keys::Duplicate, 1).unwrap().keys_kind()).unwrap();
    /// assert_eq!(k, Keys::Duplicate);
    /// rt.shutdown();
    /// ```
    pub fn keys_kind(&self) -> Keys {
        self.table.kind()
    }

    /// The number of partitions. See [`Registry::start_link`].
    pub fn partitions(&self) -> usize {
        self.table.partitions()
    }

    /// Registers the calling process under `key` with `value`; visible to every
    /// process when this returns, removed when the process dies.
    ///
    /// # Errors
    ///
    /// For unique keys, [`RegistryError::AlreadyRegistered`] with the live holder
    /// (the caller itself if it holds the key); `NotRunning` if the registry ended.
    ///
    /// # Panics
    ///
    /// Outside a process.
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry, RegistryError};
    /// use beamlet::self_pid;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<&str, u8>::start_link("u", Keys::Unique, 2).unwrap();
    ///     reg.register("a", 1).unwrap();
    ///     assert_eq!(reg.register("a", 2), Err(RegistryError::AlreadyRegistered(self_pid())));
    ///     assert_eq!(reg.lookup("a"), vec![(self_pid(), 1)]);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn register(&self, key: K, value: V) -> Result<(), RegistryError> {
        let me = self_pid();
        let t = &*self.table;
        if t.is_closed() {
            return Err(RegistryError::NotRunning);
        }
        if t.kind() == Keys::Unique {
            // Fails early, without bothering the registry process.
            if let Some(h) = t.holder(&key).filter(|&h| h == me || is_alive(h)) {
                return Err(RegistryError::AlreadyRegistered(h));
            }
        }
        if !t.indexed(me) {
            self.note(Note::Watch(me));
        }
        t.insert(key.clone(), me, value)
            .map_err(RegistryError::AlreadyRegistered)?;
        t.index_add(me, key);
        Ok(())
    }

    /// Removes the calling process's entries under `key` (all of them, in a
    /// duplicate registry). Does nothing if it has none.
    ///
    /// # Panics
    ///
    /// Outside a process.
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<String, ()>::start_link("d", Keys::Duplicate, 1).unwrap();
    ///     reg.register("t".into(), ()).unwrap();
    ///     reg.register("t".into(), ()).unwrap();
    ///     assert_eq!(reg.count(), 2);
    ///     reg.unregister("t");
    ///     assert_eq!(reg.count(), 0);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn unregister<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let me = self_pid();
        self.table.remove(key, me);
        if self.table.index_remove(me, key) {
            self.note(Note::Unwatch(me));
        }
    }

    /// The live processes under `key` with their values, in registration order
    /// (at most one for unique keys).
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<String, u8>::start_link("l", Keys::Unique, 1).unwrap();
    ///     assert!(reg.lookup("nobody").is_empty());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn lookup<Q>(&self, key: &Q) -> Vec<(Pid, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.table.is_closed() {
            return Vec::new();
        }
        let mut entries = self.table.entries(key);
        entries.retain(|(p, _)| is_alive(*p));
        entries
    }

    /// The keys `pid` holds (empty if it is dead), in registration order.
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// use beamlet::self_pid;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<u8, ()>::start_link("ks", Keys::Unique, 2).unwrap();
    ///     reg.register(1, ()).unwrap();
    ///     reg.register(2, ()).unwrap();
    ///     assert_eq!(reg.keys(self_pid()), vec![1, 2]);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn keys(&self, pid: Pid) -> Vec<K> {
        if self.table.is_closed() || !is_alive(pid) {
            return Vec::new();
        }
        self.table.keys_of(pid)
    }

    /// The values `pid` registered under `key` (empty if it is dead).
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// use beamlet::self_pid;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<&str, u8>::start_link("vs", Keys::Duplicate, 1).unwrap();
    ///     reg.register("k", 1).unwrap();
    ///     reg.register("k", 2).unwrap();
    ///     assert_eq!(reg.values("k", self_pid()), vec![1, 2]);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn values<Q>(&self, key: &Q, pid: Pid) -> Vec<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.table.is_closed() || !is_alive(pid) {
            return Vec::new();
        }
        let entries = self.table.entries(key).into_iter();
        entries.filter(|(p, _)| *p == pid).map(|(_, v)| v).collect()
    }

    /// Calls `f` with the live entries under `key` (pub/sub: `f` typically sends to
    /// each), unless there are none; returns how many entries `f` got. `f` runs in
    /// the caller, on a copy of the entries, so it may call into the runtime.
    ///
    /// See the [module](self) example.
    pub fn dispatch<Q>(&self, key: &Q, f: impl FnOnce(&[(Pid, V)])) -> usize
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.lookup(key);
        if !entries.is_empty() {
            f(&entries);
        }
        entries.len()
    }

    /// The number of entries (it may still include those of processes that died
    /// moments ago; see the module's departures).
    ///
    /// See [`Registry::unregister`] for an example.
    pub fn count(&self) -> usize {
        self.table.count()
    }

    /// In a unique registry, replaces the value of the calling process's entry under
    /// `key` by `f(old)`; returns `(new, old)`, or `None` if the caller does not
    /// hold `key` (or the registry has duplicate keys). `f` runs outside any lock.
    ///
    /// # Panics
    ///
    /// Outside a process.
    ///
    /// ```
    /// use beamlet::otp::registry::{Keys, Registry};
    /// use beamlet::self_pid;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<&str, u32>::start_link("uv", Keys::Unique, 1).unwrap();
    ///     assert_eq!(reg.update_value("hits", |n| n + 1), None);
    ///     reg.register("hits", 1).unwrap();
    ///     assert_eq!(reg.update_value("hits", |n| n + 1), Some((2, 1)));
    ///     assert_eq!(reg.lookup("hits"), vec![(self_pid(), 2)]);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn update_value<Q>(&self, key: &Q, f: impl FnOnce(&V) -> V) -> Option<(V, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.table.kind() != Keys::Unique {
            return None;
        }
        let me = self_pid();
        let old = self.table.unique_value(key, me)?;
        let new = f(&old);
        // Only the caller changes its own entry, so it is still there.
        self.table
            .set_unique_value(key, me, new.clone())
            .then_some((new, old))
    }

    /// A [`Name`] for `key` in this (unique) registry, registering with `value`:
    /// give it to `StartOptions::name` to start a server under it, and to
    /// `call_named`/`cast_named` to reach the server.
    ///
    /// ```
    /// use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init, StartOptions};
    /// use beamlet::otp::registry::{Keys, Registry};
    /// struct Nop;
    /// impl GenServer for Nop {
    ///     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
    ///     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
    ///     fn handle_call(&mut self, _: (), _: Caller<()>) -> CallReply<(), ()> { CallReply::Reply(()) }
    /// }
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let reg = Registry::<String, ()>::start_link("servers", Keys::Unique, 2).unwrap();
    ///     let name = reg.via("nop-1".to_string(), ());
    ///     let s = gen_server::start_link_with::<Nop>((), StartOptions::new().name(&name)).unwrap();
    ///     assert_eq!(reg.lookup("nop-1"), vec![(s.pid(), ())]);
    ///     assert_eq!(gen_server::call_named::<Nop>(&name, ()), Ok(()));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn via(&self, key: K, value: V) -> Name
    where
        K: fmt::Debug,
    {
        Name::via(Via {
            registry: self.clone(),
            key,
            value,
        })
    }

    fn note(&self, note: Note) {
        let owner = ServerRef::<RegistryServer<K, V>>::from_pid(self.table.owner());
        gen_server::cast(owner, note);
    }
}

/// A key of a unique registry used as a process name (see [`Registry::via`]).
struct Via<K, V> {
    registry: Registry<K, V>,
    key: K,
    value: V,
}

impl<K, V> fmt::Debug for Via<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + fmt::Debug + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pid = self.registry.pid();
        write!(f, "via registry {pid} key {:?}", self.key)
    }
}

impl<K, V> ViaName for Via<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + fmt::Debug + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn register_name(&self) -> Result<(), NameError> {
        if self.registry.keys_kind() != Keys::Unique {
            return Err(NameError::Failed(
                "a duplicate registry names no one".into(),
            ));
        }
        let r = self.registry.register(self.key.clone(), self.value.clone());
        r.map_err(|e| match e {
            RegistryError::AlreadyRegistered(p) => NameError::Taken(p),
            other => NameError::Failed(other.to_string()),
        })
    }

    fn unregister_name(&self) {
        self.registry.unregister(&self.key);
    }

    fn whereis_name(&self) -> Option<Pid> {
        match self.registry.keys_kind() {
            Keys::Unique => self.registry.lookup(&self.key).first().map(|(p, _)| *p),
            Keys::Duplicate => None,
        }
    }
}

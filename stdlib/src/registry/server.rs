//! The registry process: owns the table's lifetime and watches registered processes.
//!
//! 1. `init` records itself as the table's owner and publishes the table under its
//!    pid (so that [`table_of`] finds it from a name).
//! 2. A process about to register its first key casts [`Note::Watch`]; the registry
//!    monitors it (once per process). A process that unregistered its last key
//!    casts [`Note::Unwatch`]; the registry demonitors it unless it holds keys
//!    again. A process's notes arrive in the order it sent them.
//! 3. On the `Down` of a watched process the registry removes its entries.
//! 4. When the registry process ends, however it ends, dropping its state closes
//!    and empties the table and unpublishes it.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use beamlet_runtime::{Down, Message, MonitorRef, Pid, demonitor, monitor, self_pid};

use super::table::Table;
use crate::gen_server::{GenServer, Init, NoReply};

/// Tables of the running registries, by registry pid.
static TABLES: RwLock<BTreeMap<Pid, Arc<dyn Any + Send + Sync>>> = RwLock::new(BTreeMap::new());

/// The table of the registry process `pid`, if it is a running registry with these
/// key and value types.
pub(crate) fn table_of<K, V>(pid: Pid) -> Option<Arc<Table<K, V>>>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    let any = TABLES
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&pid)?
        .clone();
    any.downcast::<Table<K, V>>().ok()
}

/// What a client tells the registry process.
pub(crate) enum Note {
    /// Monitor this process: it is registering its first key.
    Watch(Pid),
    /// This process unregistered its last key.
    Unwatch(Pid),
}

/// The registry process's state.
pub(crate) struct RegistryServer<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    table: Arc<Table<K, V>>,
    watched: HashMap<Pid, MonitorRef>,
}

impl<K, V> GenServer for RegistryServer<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    type Args = Arc<Table<K, V>>;
    type Call = std::convert::Infallible;
    type Reply = ();
    type Cast = Note;
    type Continue = ();

    fn init(table: Arc<Table<K, V>>) -> Init<Self, ()> {
        beamlet_runtime::set_behaviour("registry", std::any::type_name::<Self>());
        let me = self_pid();
        table.set_owner(me);
        let any: Arc<dyn Any + Send + Sync> = table.clone();
        TABLES
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(me, any);
        Init::Ok(RegistryServer {
            table,
            watched: HashMap::new(),
        })
    }

    fn handle_cast(&mut self, note: Note) -> NoReply<()> {
        match note {
            Note::Watch(pid) => {
                self.watched.entry(pid).or_insert_with(|| monitor(pid));
            }
            Note::Unwatch(pid) => {
                if !self.table.indexed(pid) {
                    if let Some(m) = self.watched.remove(&pid) {
                        demonitor(m, true);
                    }
                }
            }
        }
        NoReply::Ok
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        if let Some(d) = msg.downcast_ref::<Down>() {
            if self.watched.get(&d.pid) == Some(&d.monitor) {
                self.watched.remove(&d.pid);
                self.table.purge(d.pid);
            }
        }
        NoReply::Ok
    }
}

impl<K, V> Drop for RegistryServer<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn drop(&mut self) {
        self.table.close();
        TABLES
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.table.owner());
    }
}

//! The reactor: one `mio::Poll` per runtime, polled by a dedicated thread, and the
//! table of registrations it hands readiness to. The protocol is in [`super`].
//!
//! # Why a dedicated thread
//!
//! It is the simplest design that is obviously correct: exactly one thread calls
//! `Poll::poll`, so readiness for a registration is set by one party only, and the
//! schedulers need no change at all (a woken process goes through the injector like a
//! message from outside the runtime). The price is a cross-thread hand-off per
//! readiness event: the reactor thread pushes the process to the injector and, if
//! every scheduler is parked, unparks one; and a sleeping reactor must be woken by the
//! kernel in the sender's system call. Measured with the `tcp_echo` benchmark (see
//! `benches/README.md`): the runtime makes the minimal two `send`s and two `recv`s
//! per round trip and almost no futex calls, and the reactor's wake-ups were the main
//! overhead until it learned to spin a little ([`SPIN_POLLS`]).
//! `RuntimeStats::io_events / io_polls` shows how many events each `epoll_wait`
//! returns, which is how the hand-off is amortised under load.
//!
//! Measured on the 2-core test VM (interleaved runs, quiet machine): `tcp_echo`
//! C=1000 M=100 made 179k–190k round trips/s, where a single-threaded raw mio loop
//! doing the same echo with no runtime at all (a throwaway program, not in the
//! repository) made 205k–210k. The kernel's loopback TCP path is most of the cost
//! either way; the dedicated thread costs about a tenth on top of it.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::event::{Event, Source};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::mailbox::node::Node;
use crate::pid::Pid;
use crate::process::ProcPtr;

/// What the reactor thread needs of its runtime: making woken processes runnable
/// and delivering active-mode messages. The kernel's `Shared` implements it; the
/// reactor sees no more of the runtime than this.
pub(crate) trait Wake: Send + Sync {
    /// Makes `process`, woken by readiness, runnable (from outside any scheduler).
    fn wake_process(&self, process: ProcPtr);
    /// Delivers a runtime-made message to `to`; gives it back if `to` is dead.
    fn deliver_node(&self, to: Pid, node: Node) -> Result<(), Node>;
}

/// The active-mode reader of a socket (implemented by `net::active`), pumped by the
/// reactor thread under the registration's lock: the only reader, so data arrives in
/// order. `Any` lets its owner (the socket) reach its own state through the
/// registration.
pub(crate) trait Pump: std::any::Any + Send + std::fmt::Debug {
    /// Reads the socket and delivers what it read to `owner` through `wake`; `st` is
    /// the registration (the pump clears the read readiness it drained). Returns
    /// `true` if the socket may have more and should be pumped again next round.
    fn pump(&mut self, st: &mut RegState, owner: Pid, wake: &dyn Wake, scratch: &mut [u8]) -> bool;
}

/// Registrations per chunk of the table, allocated together on first use.
const CHUNK: usize = 1024;
/// Bits of a token holding the slot index; the bits above hold the generation.
const INDEX_BITS: u32 = 20;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// The generation bits a token can carry.
const GEN_MASK: usize = usize::MAX >> INDEX_BITS;
/// Live registrations at most. The last index is never used, so no slot's token can
/// equal [`WAKER`].
const CAPACITY: usize = INDEX_MASK;
/// The token of the waker that ends a poll early (stop, active-mode kicks).
const WAKER: Token = Token(usize::MAX);
/// Events taken per `epoll_wait`.
const EVENTS: usize = 1024;
/// Non-blocking polls the reactor makes after a poll that found events, yielding its
/// CPU between empty ones, before it blocks in `epoll_wait` again. Under traffic this
/// keeps the reactor off the epoll wait queue, so a sender's system call does not pay
/// for waking it, and events arrive in batches: on the 2-core test machine it raised
/// `tcp_echo` from a median 135k to 180k round trips/s. Idle, it costs ten system
/// calls and yields after the last event.
const SPIN_POLLS: u32 = 10;
/// Bytes read per active-mode message at most.
const ACTIVE_READ: usize = 64 * 1024;

/// Readiness bits. `READ_CLOSED` and `WRITE_CLOSED` are sticky: once the peer has
/// closed, no further edge will come, so they are never cleared.
pub(crate) const READABLE: u8 = 1;
pub(crate) const WRITABLE: u8 = 2;
pub(crate) const READ_CLOSED: u8 = 4;
pub(crate) const WRITE_CLOSED: u8 = 8;
pub(crate) const ERROR: u8 = 16;

/// A direction of interest: each has its own readiness and its own waiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Read = 0,
    Write = 1,
}

impl Dir {
    /// The bits that make an operation in this direction worth trying.
    pub(crate) fn ready_mask(self) -> u8 {
        match self {
            Dir::Read => READABLE | READ_CLOSED | ERROR,
            Dir::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    /// The bits a `WouldBlock` (or a short transfer) clears: not the sticky ones.
    fn clear_mask(self) -> u8 {
        match self {
            Dir::Read => READABLE | ERROR,
            Dir::Write => WRITABLE | ERROR,
        }
    }
}

/// A process waiting for readiness: the serial guards against the slot being reused
/// by another process, the sequence names this particular wait so that only its own
/// entry is removed when the wait ends (as `TimerAction::Wake`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Waiter {
    process: ProcPtr,
    serial: u32,
    seq: u32,
}

impl Waiter {
    /// A waiter for the running process `p`.
    pub(crate) fn new(p: ProcPtr) -> Waiter {
        Waiter {
            process: p,
            serial: p.get().serial.load(Ordering::Relaxed),
            seq: 0,
        }
    }
}

/// The waiters of one direction. One is the common case (one process per socket);
/// more happen when several processes share a socket through an `Arc`.
#[derive(Debug, Default)]
struct Waiters {
    first: Option<Waiter>,
    rest: Vec<Waiter>,
}

impl Waiters {
    fn install(&mut self, w: Waiter) {
        self.remove(w.process, None);
        match self.first {
            None => self.first = Some(w),
            Some(_) => self.rest.push(w),
        }
    }

    /// Removes `p`'s entry (only the one of wait `seq`, if given).
    fn remove(&mut self, p: ProcPtr, seq: Option<u32>) {
        let mine = |w: &Waiter| w.process == p && seq.is_none_or(|s| s == w.seq);
        if self.first.as_ref().is_some_and(mine) {
            self.first = self.rest.pop();
        }
        self.rest.retain(|w| !mine(w));
    }

    fn take_into(&mut self, out: &mut Vec<Waiter>) {
        out.extend(self.first.take());
        out.append(&mut self.rest);
    }

    fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.is_empty()
    }
}

/// The state of one registration, behind its lock.
#[derive(Debug, Default)]
pub(crate) struct RegState {
    /// Bumped when the slot is released; events for an older generation are ignored.
    generation: u32,
    /// Readiness bits (`READABLE`, ...).
    pub(crate) ready: u8,
    /// Bumped at every event: a process that looked before an event must not clear
    /// the readiness that event set.
    tick: u32,
    next_seq: u32,
    waiters: [Waiters; 2],
    /// The process that receives active-mode messages (TCP streams only).
    pub(crate) owner: Option<Pid>,
    /// The active-mode reader of a TCP stream (see [`Pump`]).
    pub(crate) active: Option<Box<dyn Pump>>,
}

impl RegState {
    /// Whether an operation in `dir` is worth trying, and the tick it was seen at.
    pub(crate) fn poll(&self, dir: Dir) -> (bool, u32) {
        (self.ready & dir.ready_mask() != 0, self.tick)
    }

    /// Clears `dir`'s readiness unless an event came after `tick`.
    pub(crate) fn clear(&mut self, dir: Dir, tick: u32) {
        if self.tick == tick {
            self.ready &= !dir.clear_mask();
        }
    }

    /// Clears `dir`'s readiness whatever the tick: only for the reactor thread, the
    /// one dispatcher, which knows no event can come in between.
    pub(crate) fn clear_now(&mut self, dir: Dir) {
        self.ready &= !dir.clear_mask();
    }

    /// Step 4 of the protocol: after a `WouldBlock` seen at `tick`, clears the
    /// readiness and installs `w`, unless an event came in meanwhile (or a sticky bit
    /// says the operation will not block): then `None`, and the caller retries.
    pub(crate) fn park(&mut self, dir: Dir, tick: u32, mut w: Waiter) -> Option<u32> {
        self.clear(dir, tick);
        if self.ready & dir.ready_mask() != 0 {
            return None;
        }
        self.next_seq = self.next_seq.wrapping_add(1);
        w.seq = self.next_seq;
        self.waiters[dir as usize].install(w);
        Some(w.seq)
    }

    /// Removes the waiter of wait `seq` of process `p`, if still installed.
    pub(crate) fn unpark(&mut self, dir: Dir, p: ProcPtr, seq: u32) {
        self.waiters[dir as usize].remove(p, Some(seq));
    }

    /// Makes the slot fresh for a new socket: ready both ways (the first operation
    /// is tried optimistically), no waiters, no owner.
    fn reset(&mut self) {
        self.ready = READABLE | WRITABLE;
        self.tick = self.tick.wrapping_add(1);
        self.owner = None;
        self.active = None;
    }

    fn matches(&self, token_generation: usize) -> bool {
        self.generation as usize & GEN_MASK == token_generation
    }
}

/// One slot of the table.
#[derive(Debug, Default)]
pub(crate) struct Registration {
    state: Mutex<RegState>,
}

impl Registration {
    /// Locks the state. Held only for a few instructions (or one non-blocking read on
    /// the reactor thread), never across a switch.
    pub(crate) fn lock(&self) -> MutexGuard<'_, RegState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A slot index and the generation it had when the socket was registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    fn token(self) -> Token {
        Token((self.generation as usize & GEN_MASK) << INDEX_BITS | self.index as usize)
    }
}

#[derive(Debug, Default)]
struct FreeList {
    indices: Vec<u32>,
    next_fresh: usize,
}

/// The runtime's reactor (see the module docs).
#[derive(Debug)]
pub(crate) struct Reactor {
    registry: Registry,
    waker: Waker,
    /// Registrations in chunks, created on first use and kept until the reactor is
    /// dropped, so a lookup by token takes no lock.
    chunks: Box<[OnceLock<Box<[Registration]>>]>,
    free: Mutex<FreeList>,
    /// Active sockets whose readiness was set before they became active: read by the
    /// reactor thread on its next round.
    backlog: Mutex<Vec<Key>>,
    stopping: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// `epoll_wait` calls and the events they returned (statistics; Relaxed).
    pub(crate) polls: AtomicU64,
    pub(crate) events: AtomicU64,
}

/// Scratch space of the reactor thread, reused across rounds.
struct Round {
    woken: Vec<Waiter>,
    /// Active sockets that hit the per-round read cap: pumped again next round.
    more: Vec<Key>,
    scratch: Vec<u8>,
}

impl Reactor {
    /// A reactor and the `Poll` its thread will own.
    pub(crate) fn new() -> io::Result<(Arc<Reactor>, Poll)> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let chunks = (0..CAPACITY.div_ceil(CHUNK))
            .map(|_| OnceLock::new())
            .collect();
        let reactor = Reactor {
            registry,
            waker,
            chunks,
            free: Mutex::new(FreeList::default()),
            backlog: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            thread: Mutex::new(None),
            polls: AtomicU64::new(0),
            events: AtomicU64::new(0),
        };
        Ok((Arc::new(reactor), poll))
    }

    /// Starts the reactor thread. It holds `wake` (its runtime) until
    /// [`Reactor::stop`].
    pub(crate) fn start(
        self: &Arc<Self>,
        poll: Poll,
        wake: Arc<dyn Wake>,
        name: String,
    ) -> io::Result<()> {
        let me = self.clone();
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || me.thread_main(poll, &*wake))?;
        *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        Ok(())
    }

    /// Stops the reactor thread and joins it if it finishes by `deadline`.
    pub(crate) fn stop(&self, deadline: Instant) {
        self.stopping.store(true, Ordering::Release);
        let _ = self.waker.wake();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = handle {
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }

    /// The reactor thread's body: poll, dispatch, pump, until stopped.
    fn thread_main(&self, mut poll: Poll, shared: &dyn Wake) {
        let mut events = Events::with_capacity(EVENTS);
        let mut round = Round {
            woken: Vec::new(),
            more: Vec::new(),
            scratch: vec![0; ACTIVE_READ],
        };
        let mut spin = 0;
        // Acquire pairs with the Release store in `Reactor::stop`.
        while !self.stopping.load(Ordering::Acquire) {
            let carried = std::mem::take(&mut round.more);
            let timeout = (!carried.is_empty() || spin > 0).then_some(Duration::ZERO);
            if let Err(e) = poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::error!("beamlet: the reactor's poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
                round.more = carried;
                continue;
            }
            self.polls.fetch_add(1, Ordering::Relaxed);
            let mut n = 0;
            for ev in events.iter() {
                n += 1;
                if ev.token() != WAKER {
                    self.dispatch(shared, ev, &mut round);
                }
            }
            self.events.fetch_add(n, Ordering::Relaxed);
            if n > 0 {
                spin = SPIN_POLLS;
            } else if spin > 0 {
                spin -= 1;
                std::thread::yield_now();
            }
            let queued =
                std::mem::take(&mut *self.backlog.lock().unwrap_or_else(|e| e.into_inner()));
            for key in carried.into_iter().chain(queued) {
                self.pump_key(shared, key, &mut round);
            }
        }
    }

    /// Steps 2 and 6 of the protocol: records an event and wakes its waiters.
    fn dispatch(&self, shared: &dyn Wake, ev: &Event, round: &mut Round) {
        let token = ev.token().0;
        let Some(reg) = self.slot(token & INDEX_MASK) else {
            return;
        };
        let mut st = reg.lock();
        if !st.matches(token >> INDEX_BITS) {
            return; // A stale event of a socket that was closed; the slot moved on.
        }
        st.ready |= readiness(ev);
        st.tick = st.tick.wrapping_add(1);
        for dir in [Dir::Read, Dir::Write] {
            if st.ready & dir.ready_mask() != 0 {
                st.waiters[dir as usize].take_into(&mut round.woken);
            }
        }
        if pump_active(&mut st, shared, &mut round.scratch) {
            round.more.push(Key {
                index: (token & INDEX_MASK) as u32,
                generation: st.generation,
            });
        }
        drop(st);
        wake_all(shared, &mut round.woken);
    }

    fn pump_key(&self, shared: &dyn Wake, key: Key, round: &mut Round) {
        let Some(reg) = self.slot(key.index as usize) else {
            return;
        };
        let mut st = reg.lock();
        if st.generation == key.generation && pump_active(&mut st, shared, &mut round.scratch) {
            round.more.push(key);
        }
    }

    /// Asks the reactor thread to read an active socket that is already readable.
    pub(crate) fn kick(&self, key: Key) {
        self.backlog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(key);
        let _ = self.waker.wake();
    }

    /// Sockets registered now (listeners, streams, datagram sockets).
    pub(crate) fn open_sockets(&self) -> usize {
        let free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.next_fresh - free.indices.len()
    }

    fn slot(&self, index: usize) -> Option<&Registration> {
        self.chunks
            .get(index / CHUNK)?
            .get()
            .map(|c| &c[index % CHUNK])
    }

    /// Step 1 of the protocol: takes a slot and registers `source` under its token.
    fn register(&self, source: &mut impl Source, interest: Interest) -> io::Result<Key> {
        let index = self.alloc()?;
        let reg = self.slot(index as usize).expect("allocated slots exist");
        let generation = {
            let mut st = reg.lock();
            st.reset();
            st.generation
        };
        let key = Key { index, generation };
        if let Err(e) = self.registry.register(source, key.token(), interest) {
            self.release(key);
            return Err(e);
        }
        Ok(key)
    }

    fn alloc(&self) -> io::Result<u32> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = free.indices.pop() {
            return Ok(i);
        }
        let index = free.next_fresh;
        if index >= CAPACITY {
            return Err(io::Error::other(format!(
                "beamlet: more than {CAPACITY} sockets open in one runtime"
            )));
        }
        self.chunks[index / CHUNK]
            .get_or_init(|| (0..CHUNK).map(|_| Registration::default()).collect());
        free.next_fresh += 1;
        Ok(index as u32)
    }

    /// Step 7 of the protocol: the slot's generation moves on (so events still in
    /// flight for the old token are ignored) and the slot becomes free.
    fn release(&self, key: Key) {
        let Some(reg) = self.slot(key.index as usize) else {
            return;
        };
        let active = {
            let mut st = reg.lock();
            debug_assert!(
                st.waiters.iter().all(Waiters::is_empty),
                "a closed socket has waiters"
            );
            st.generation = st.generation.wrapping_add(1);
            st.ready = 0;
            st.owner = None;
            st.waiters = Default::default();
            st.active.take()
        };
        drop(active);
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .indices
            .push(key.index);
    }
}

/// The readiness bits an event carries.
fn readiness(ev: &Event) -> u8 {
    let mut r = 0;
    if ev.is_readable() {
        r |= READABLE;
    }
    if ev.is_writable() {
        r |= WRITABLE;
    }
    if ev.is_read_closed() {
        r |= READ_CLOSED;
    }
    if ev.is_write_closed() {
        r |= WRITE_CLOSED;
    }
    if ev.is_error() {
        r |= ERROR;
    }
    r
}

/// Wakes the processes taken from a registration (after its lock is released). A
/// process whose slot was reused since gets no wake-up; a racing reuse costs the new
/// occupant one spurious wake-up, which every waiter tolerates.
fn wake_all(shared: &dyn Wake, woken: &mut Vec<Waiter>) {
    for w in woken.drain(..) {
        if w.process.get().serial.load(Ordering::Acquire) == w.serial {
            shared.wake_process(w.process);
        }
    }
}

/// Pumps an active socket's registration (locked by the caller): the pump is taken
/// out for the call so that it can update the registration's readiness.
fn pump_active(st: &mut RegState, wake: &dyn Wake, scratch: &mut [u8]) -> bool {
    let Some(owner) = st.owner else {
        return false;
    };
    let Some(mut pump) = st.active.take() else {
        return false;
    };
    let more = pump.pump(st, owner, wake, scratch);
    st.active = Some(pump);
    more
}

/// A socket's registration with its runtime's reactor; dropping it releases the slot
/// (deregister the source first, with [`IoHandle::deregister`]).
#[derive(Debug)]
pub(crate) struct IoHandle {
    reactor: Arc<Reactor>,
    key: Key,
    /// The runtime whose processes may wait on this socket.
    runtime: u32,
}

impl IoHandle {
    /// Registers `source` with `reactor`, the reactor of runtime `runtime`.
    ///
    /// # Errors
    ///
    /// The OS error of the registration.
    pub(crate) fn register(
        reactor: Arc<Reactor>,
        runtime: u32,
        source: &mut impl Source,
        interest: Interest,
    ) -> io::Result<IoHandle> {
        let key = reactor.register(source, interest)?;
        Ok(IoHandle {
            reactor,
            key,
            runtime,
        })
    }

    /// The runtime the socket belongs to.
    pub(crate) fn runtime(&self) -> u32 {
        self.runtime
    }

    /// Locks the registration's state.
    pub(crate) fn lock(&self) -> MutexGuard<'_, RegState> {
        self.reactor
            .slot(self.key.index as usize)
            .expect("a live handle's slot exists")
            .lock()
    }

    /// Has the reactor thread read this (active) socket on its next round.
    pub(crate) fn kick(&self) {
        self.reactor.kick(self.key);
    }

    /// Removes `source` from the poll set (errors are ignored: the fd is about to be
    /// closed, which removes it anyway).
    pub(crate) fn deregister(&self, source: &mut impl Source) {
        let _ = self.reactor.registry.deregister(source);
    }
}

impl Drop for IoHandle {
    fn drop(&mut self) {
        self.reactor.release(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Process;

    fn udp() -> mio::net::UdpSocket {
        mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap()
    }

    #[test]
    fn a_token_carries_index_and_generation() {
        let k = Key {
            index: 1234,
            generation: 77,
        };
        let t = k.token().0;
        assert_eq!(t & INDEX_MASK, 1234);
        assert_eq!(t >> INDEX_BITS, 77);
        assert_ne!(k.token(), WAKER);
        let last = Key {
            index: (CAPACITY - 1) as u32,
            generation: u32::MAX,
        };
        assert_ne!(last.token(), WAKER, "no slot's token is the waker's");
    }

    #[test]
    fn a_reused_slot_has_a_new_generation_and_ignores_stale_tokens() {
        let (reactor, _poll) = Reactor::new().unwrap();
        let mut a = udp();
        let ka = reactor.register(&mut a, Interest::READABLE).unwrap();
        reactor.registry.deregister(&mut a).unwrap();
        reactor.release(ka);
        let mut b = udp();
        let kb = reactor.register(&mut b, Interest::READABLE).unwrap();
        assert_eq!(kb.index, ka.index, "the freed slot is reused");
        assert_ne!(kb.token(), ka.token());
        let st = reactor.slot(kb.index as usize).unwrap().lock();
        assert!(st.matches(kb.token().0 >> INDEX_BITS));
        assert!(
            !st.matches(ka.token().0 >> INDEX_BITS),
            "a stale event is ignored"
        );
    }

    #[test]
    fn park_waits_only_if_no_event_came_since_the_look() {
        let proc = Process::new(0);
        let p = ProcPtr::new(&proc);
        let mut st = RegState::default();
        st.reset();
        let (ready, tick) = st.poll(Dir::Read);
        assert!(ready, "a fresh registration is tried optimistically");
        // An event between the look and the park: retry instead of waiting.
        st.tick = st.tick.wrapping_add(1);
        assert_eq!(st.park(Dir::Read, tick, Waiter::new(p)), None);
        assert_ne!(st.ready & READABLE, 0, "the newer readiness was kept");
        // No event since the look: readiness cleared, waiter installed.
        let (_, tick) = st.poll(Dir::Read);
        let seq = st.park(Dir::Read, tick, Waiter::new(p)).expect("parks");
        assert_eq!(st.ready & READABLE, 0);
        assert_ne!(st.ready & WRITABLE, 0, "the other direction is untouched");
        assert!(!st.waiters[0].is_empty());
        st.unpark(Dir::Read, p, seq.wrapping_add(1));
        assert!(!st.waiters[0].is_empty(), "another wait's entry stays");
        st.unpark(Dir::Read, p, seq);
        assert!(st.waiters[0].is_empty());
    }

    #[test]
    fn peer_closed_is_sticky() {
        let proc = Process::new(0);
        let p = ProcPtr::new(&proc);
        let mut st = RegState {
            ready: READ_CLOSED,
            ..RegState::default()
        };
        let (ready, tick) = st.poll(Dir::Read);
        assert!(ready);
        assert_eq!(st.park(Dir::Read, tick, Waiter::new(p)), None);
        st.clear_now(Dir::Read);
        assert_ne!(st.ready & READ_CLOSED, 0, "EOF stays visible for ever");
    }

    #[test]
    fn waiters_keep_one_entry_per_process() {
        let procs = [Process::new(0), Process::new(1)];
        let [a, b] = [ProcPtr::new(&procs[0]), ProcPtr::new(&procs[1])];
        let mut w = Waiters::default();
        w.install(Waiter::new(a));
        w.install(Waiter::new(a));
        w.install(Waiter::new(b));
        let mut out = Vec::new();
        w.take_into(&mut out);
        assert_eq!(out.len(), 2);
        assert!(w.is_empty());
    }
}

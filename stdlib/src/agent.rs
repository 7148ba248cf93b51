//! Agents (as Elixir's `Agent`): a process that holds a state, read and changed by
//! functions sent to it.
//!
//! # The protocol
//!
//! 1. [`Agent::start_link`] (or `start`, unlinked) starts a [`GenServer`] whose
//!    `init` runs the given function, in the new process, to make the state; a
//!    panic there fails the start with `StartError::Stop`.
//! 2. [`get`](Agent::get), [`update`](Agent::update) and
//!    [`get_and_update`](Agent::get_and_update) are calls: the function runs in the
//!    agent on its state, and its return value is the reply. They wait up to
//!    [`DEFAULT_CALL_TIMEOUT`] (the `_timeout` variants take another).
//! 3. [`cast`](Agent::cast) sends a function to run without waiting.
//! 4. Functions run one at a time, in the order the agent receives them: a
//!    process's casts and calls are applied in the order it sent them.
//! 5. A function that panics ends the agent with the panic as its exit reason (as a
//!    `GenServer` callback): the caller of that call gets
//!    `CallError::Exit(ExitReason::Panic(..))`, and processes linked to the agent
//!    (its `start_link` caller) get the exit signal.
//! 6. [`stop`](Agent::stop) stops it with reason `Normal` and waits for its exit.
//!
//! # Departures from Elixir
//!
//! - The state is typed (`Agent<S>`), and functions take `&mut S` rather than
//!   returning a new state: `update(|s| *s += 1)` is Elixir's
//!   `update(agent, &(&1 + 1))`; `get_and_update` returns what its function
//!   returns, having changed the state in place.
//! - Errors are [`CallError`] values instead of exits of the caller.
//! - The functions are closures, not `{module, fun, args}` tuples.
//!
//! # Example
//!
//! ```
//! use beamlet::otp::agent::Agent;
//! let rt = beamlet::Runtime::builder().build().unwrap();
//! rt.block_on(|| {
//!     let counter = Agent::start_link(|| 0u64).unwrap();
//!     counter.update(|n| *n += 41).unwrap();
//!     counter.cast(|n| *n += 1);
//!     assert_eq!(counter.get(|n| *n), Ok(42));
//!     assert_eq!(counter.get_and_update(|n| std::mem::replace(n, 0)), Ok(42));
//!     counter.stop().unwrap();
//! }).unwrap();
//! rt.shutdown();
//! ```

use std::any::Any;
use std::fmt;
use std::time::Duration;

use beamlet_runtime::{ExitReason, Pid};

use crate::behaviour::{CallError, DEFAULT_CALL_TIMEOUT, StartError, StartOptions};
use crate::gen_server::{self, CallReply, Caller, GenServer, Init, NoReply, ServerRef};
use crate::name::Name;
use crate::supervisor::ChildSpec;

/// A function a call runs on the state; its result, boxed, is the reply.
type CallFn<S> = Box<dyn FnOnce(&mut S) -> Box<dyn Any + Send> + Send>;

/// A function a cast runs on the state.
type CastFn<S> = Box<dyn FnOnce(&mut S) + Send>;

/// The agent process: a [`GenServer`] whose state is the agent's state.
struct AgentServer<S>(S);

impl<S: Send + 'static> GenServer for AgentServer<S> {
    type Args = Box<dyn FnOnce() -> S + Send>;
    type Call = CallFn<S>;
    type Reply = Box<dyn Any + Send>;
    type Cast = CastFn<S>;
    type Continue = ();

    fn init(make: Self::Args) -> Init<Self, ()> {
        beamlet_runtime::set_behaviour("agent", std::any::type_name::<S>());
        Init::Ok(AgentServer(make()))
    }

    fn handle_call(&mut self, f: CallFn<S>, _: Caller<Self::Reply>) -> CallReply<Self::Reply, ()> {
        CallReply::Reply(f(&mut self.0))
    }

    fn handle_cast(&mut self, f: CastFn<S>) -> NoReply<()> {
        f(&mut self.0);
        NoReply::Ok
    }
}

/// A running agent holding a state of type `S`: a `Copy` handle.
///
/// See the [module](self) for the protocol and an example.
pub struct Agent<S> {
    server: ServerRef<AgentServer<S>>,
}

impl<S> Clone for Agent<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Agent<S> {}

impl<S> PartialEq for Agent<S> {
    fn eq(&self, other: &Self) -> bool {
        self.server == other.server
    }
}

impl<S> Eq for Agent<S> {}

impl<S> fmt::Debug for Agent<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Agent<{}>({:?})",
            std::any::type_name::<S>(),
            self.server
        )
    }
}

impl<S> std::convert::From<Agent<S>> for Pid {
    fn from(a: Agent<S>) -> Pid {
        a.server.into()
    }
}

impl<S: Send + 'static> Agent<S> {
    /// Starts an agent linked to the caller, its state made by `init` in the new
    /// process (Elixir's `Agent.start_link`). See the [module](self) example.
    ///
    /// # Errors
    ///
    /// [`StartError::Stop`] if `init` panicked.
    #[track_caller]
    pub fn start_link(init: impl FnOnce() -> S + Send + 'static) -> Result<Agent<S>, StartError> {
        Agent::start_link_with(init, StartOptions::new())
    }

    /// [`start_link`](Agent::start_link) with start options (a name, a start
    /// timeout).
    ///
    /// # Errors
    ///
    /// As [`start_link`](Agent::start_link); `AlreadyStarted` if the name is taken.
    ///
    /// ```
    /// use beamlet::otp::agent::Agent;
    /// use beamlet::otp::gen_server::StartOptions;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let a = Agent::start_link_with(|| vec![1, 2], StartOptions::new().name("list")).unwrap();
    ///     assert_eq!(Agent::<Vec<i32>>::whereis("list"), Some(a));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    #[track_caller]
    pub fn start_link_with(
        init: impl FnOnce() -> S + Send + 'static,
        opts: StartOptions,
    ) -> Result<Agent<S>, StartError> {
        let server = gen_server::start_link_with::<AgentServer<S>>(Box::new(init), opts)?;
        Ok(Agent { server })
    }

    /// Starts an agent not linked to the caller (Elixir's `Agent.start`).
    ///
    /// # Errors
    ///
    /// As [`start_link`](Agent::start_link).
    ///
    /// ```
    /// use beamlet::otp::agent::Agent;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let a = Agent::start(|| "state").unwrap();
    ///     assert_eq!(a.get(|s| s.len()), Ok(5));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    #[track_caller]
    pub fn start(init: impl FnOnce() -> S + Send + 'static) -> Result<Agent<S>, StartError> {
        Agent::start_with(init, StartOptions::new())
    }

    /// [`start`](Agent::start) with start options.
    ///
    /// # Errors
    ///
    /// As [`start_link_with`](Agent::start_link_with).
    ///
    /// ```
    /// use beamlet::otp::agent::Agent;
    /// use beamlet::otp::gen_server::StartOptions;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let a = Agent::start_with(|| 1u8, StartOptions::new().name("one")).unwrap();
    ///     assert_eq!(beamlet::whereis("one"), Some(a.pid()));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    #[track_caller]
    pub fn start_with(
        init: impl FnOnce() -> S + Send + 'static,
        opts: StartOptions,
    ) -> Result<Agent<S>, StartError> {
        let server = gen_server::start_with::<AgentServer<S>>(Box::new(init), opts)?;
        Ok(Agent { server })
    }

    /// A child spec starting the agent with [`start_link`](Agent::start_link)
    /// (permanent, so restarted with a fresh `init()` state after a crash).
    ///
    /// ```
    /// use beamlet::otp::agent::Agent;
    /// use beamlet::otp::gen_server::StartOptions;
    /// use beamlet::otp::supervisor::{self, SupervisorFlags};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let spec = Agent::child_spec("config", || 3u32, StartOptions::new().name("config"));
    ///     supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
    ///     assert_eq!(Agent::<u32>::whereis("config").unwrap().get(|n| *n), Ok(3));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn child_spec<F>(id: impl Into<String>, init: F, opts: StartOptions) -> ChildSpec
    where
        F: Fn() -> S + Clone + Send + Sync + 'static,
    {
        ChildSpec::worker(id, move || {
            Agent::start_link_with(init.clone(), opts.clone())
        })
    }

    /// The agent registered as `name` (a local name as `&str`, or any [`Name`]),
    /// trusted to hold an `S`.
    ///
    /// See [`start_link_with`](Agent::start_link_with) for an example.
    pub fn whereis(name: impl Into<Name>) -> Option<Agent<S>> {
        ServerRef::whereis(name).map(|server| Agent { server })
    }

    /// The agent's process.
    ///
    /// See [`start_with`](Agent::start_with) for an example.
    pub fn pid(&self) -> Pid {
        self.server.pid()
    }

    /// Runs `f` on the state in the agent and returns its result (Elixir's
    /// `Agent.get`); waits up to [`DEFAULT_CALL_TIMEOUT`]. See the
    /// [module](self) example.
    ///
    /// # Errors
    ///
    /// [`CallError`]: the agent is not running, exited during the call (`f`
    /// panicked, for example), or did not answer in time.
    pub fn get<R: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        self.get_timeout(f, DEFAULT_CALL_TIMEOUT)
    }

    /// [`get`](Agent::get) with a timeout (`Duration::MAX` waits for ever).
    ///
    /// # Errors
    ///
    /// As [`get`](Agent::get).
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::otp::agent::Agent;
    /// use beamlet::otp::gen_server::CallError;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let a = Agent::start_link(|| ()).unwrap();
    ///     a.cast(|_| beamlet::sleep(Duration::from_millis(200)));
    ///     assert_eq!(a.get_timeout(|_| (), Duration::from_millis(1)), Err(CallError::Timeout));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn get_timeout<R: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> R + Send + 'static,
        timeout: Duration,
    ) -> Result<R, CallError> {
        self.call(move |s| f(s), timeout)
    }

    /// Runs `f` on the state, changing it, and waits until it has run (Elixir's
    /// `Agent.update`). See the [module](self) example.
    ///
    /// # Errors
    ///
    /// As [`get`](Agent::get).
    pub fn update(&self, f: impl FnOnce(&mut S) + Send + 'static) -> Result<(), CallError> {
        self.update_timeout(f, DEFAULT_CALL_TIMEOUT)
    }

    /// [`update`](Agent::update) with a timeout.
    ///
    /// # Errors
    ///
    /// As [`get`](Agent::get).
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::otp::agent::Agent;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let a = Agent::start_link(|| 1).unwrap();
    ///     a.update_timeout(|n| *n *= 10, Duration::from_secs(1)).unwrap();
    ///     assert_eq!(a.get(|n| *n), Ok(10));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn update_timeout(
        &self,
        f: impl FnOnce(&mut S) + Send + 'static,
        timeout: Duration,
    ) -> Result<(), CallError> {
        self.call(f, timeout)
    }

    /// Runs `f` on the state, changing it, and returns `f`'s result (Elixir's
    /// `Agent.get_and_update`). See the [module](self) example.
    ///
    /// # Errors
    ///
    /// As [`get`](Agent::get).
    pub fn get_and_update<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut S) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        self.get_and_update_timeout(f, DEFAULT_CALL_TIMEOUT)
    }

    /// [`get_and_update`](Agent::get_and_update) with a timeout.
    ///
    /// # Errors
    ///
    /// As [`get`](Agent::get).
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::otp::agent::Agent;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let a = Agent::start_link(|| vec![1, 2, 3]).unwrap();
    ///     assert_eq!(a.get_and_update_timeout(|v| v.pop(), Duration::from_secs(1)), Ok(Some(3)));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn get_and_update_timeout<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut S) -> R + Send + 'static,
        timeout: Duration,
    ) -> Result<R, CallError> {
        self.call(f, timeout)
    }

    /// Sends `f` to run on the state without waiting (Elixir's `Agent.cast`);
    /// dropped if the agent is not running. See the [module](self) example.
    pub fn cast(&self, f: impl FnOnce(&mut S) + Send + 'static) {
        gen_server::cast(self.server, Box::new(f));
    }

    /// Stops the agent with reason `Normal`, waiting for ever for it to exit
    /// (Elixir's `Agent.stop/1`). See the [module](self) example.
    ///
    /// # Errors
    ///
    /// `NoProc` if it is not running, `Exit` if it exited with another reason.
    pub fn stop(&self) -> Result<(), CallError> {
        self.stop_with(ExitReason::Normal, Duration::MAX)
    }

    /// Stops the agent with `reason`, waiting up to `timeout` (Elixir's
    /// `Agent.stop/3`).
    ///
    /// # Errors
    ///
    /// As [`stop`](Agent::stop); `Timeout` if it did not exit in time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::otp::agent::Agent;
    /// use beamlet::otp::gen_server::CallError;
    /// use beamlet::ExitReason;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let a = Agent::start(|| 0).unwrap();
    ///     assert_eq!(a.stop_with(ExitReason::Shutdown, Duration::from_secs(5)), Ok(()));
    ///     assert_eq!(a.get(|n| *n), Err(CallError::NoProc));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn stop_with(&self, reason: ExitReason, timeout: Duration) -> Result<(), CallError> {
        gen_server::stop(self.server, reason, timeout)
    }

    /// Runs `f` in the agent as a call and unboxes its result.
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut S) -> R + Send + 'static,
        timeout: Duration,
    ) -> Result<R, CallError> {
        let op: CallFn<S> = Box::new(move |s| Box::new(f(s)));
        let reply = gen_server::call_timeout(self.server, op, timeout)?;
        match reply.downcast::<R>() {
            Ok(r) => Ok(*r),
            Err(_) => unreachable!("the agent replies with what the call's function returned"),
        }
    }
}

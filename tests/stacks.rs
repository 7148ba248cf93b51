//! Process stacks: the default fits ordinary deep code, a process can ask for a
//! bigger one (`SpawnOpts::stack_size`, `StartOptions::stack_size`), and a process
//! that is about to overflow at a runtime call ends alone with `StackOverflow`
//! (its links and monitors see it, its supervisor restarts it, the runtime goes on).
//! The guard-page abort of code that never calls the runtime is in
//! `tests/stack_overflow.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init, StartOptions};
use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
use beamlet::{
    Down, Exit, ExitReason, Pid, Runtime, SpawnOpts, monitor, process_info, receive,
    receive_timeout, reduce, self_pid, send, spawn, spawn_opt, trap_exit,
};

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

/// Recurses `depth` levels with a 1 KiB frame, without calling the runtime.
fn recurse(depth: u32) -> u64 {
    let mut frame = [depth as u8; 1024];
    std::hint::black_box(&mut frame);
    if depth == 0 {
        return 0;
    }
    recurse(depth - 1) + u64::from(frame[depth as usize % 1024])
}

/// Recurses without bound with a 1 KiB frame, calling the runtime at every level.
fn recurse_calling_the_runtime(depth: u64) -> u64 {
    let mut frame = [depth as u8; 1024];
    std::hint::black_box(&mut frame);
    reduce(1);
    if depth == u64::MAX {
        return 0;
    }
    recurse_calling_the_runtime(depth + 1) + u64::from(frame[0])
}

#[test]
fn a_100_kib_recursion_fits_the_default_stack() {
    let rt = rt();
    let got = rt.block_on(|| recurse(100)).unwrap();
    assert_eq!(got, (1..=100u64).sum::<u64>());
    let _ = rt.shutdown();
}

#[test]
fn spawn_opt_stack_size_gives_a_process_a_bigger_stack() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let opts = SpawnOpts {
            monitor: true,
            stack_size: Some(4 << 20),
            ..SpawnOpts::default()
        };
        // 1,000 frames of 1 KiB: more than the default stack holds.
        let (pid, _) = spawn_opt(move || send(me, recurse(1000)).unwrap(), opts).unwrap();
        assert_eq!(
            receive::<u64>(),
            (1..=1000u64).map(|d| d % 256).sum::<u64>()
        );
        let down = receive::<Down>();
        assert_eq!((down.pid, down.reason), (pid, ExitReason::Normal));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_stack_size_above_the_maximum_is_refused() {
    let rt = rt();
    rt.block_on(|| {
        let opts = SpawnOpts {
            stack_size: Some(beamlet::MAX_STACK_SIZE + 1),
            ..SpawnOpts::default()
        };
        let err = spawn_opt(|| (), opts).unwrap_err();
        assert_eq!(
            err,
            beamlet::SpawnError::StackSize(beamlet::MAX_STACK_SIZE + 1)
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// A server whose call recurses as deep as asked: 1 KiB frames, or without bound
/// (calling the runtime at every level) for `u32::MAX`.
struct Deep;

impl GenServer for Deep {
    type Args = Pid;
    type Call = u32;
    type Reply = u64;
    type Cast = ();
    type Continue = ();

    fn init(observer: Pid) -> Init<Self, ()> {
        send(observer, self_pid()).unwrap();
        Init::Ok(Deep)
    }

    fn handle_call(&mut self, depth: u32, _: Caller<u64>) -> CallReply<u64, ()> {
        match depth {
            u32::MAX => CallReply::Reply(recurse_calling_the_runtime(0)),
            d => CallReply::Reply(recurse(d)),
        }
    }
}

#[test]
fn start_options_stack_size_gives_a_server_a_bigger_stack() {
    let rt = rt();
    rt.block_on(|| {
        let opts = StartOptions::new().stack_size(3 << 20);
        let s = gen_server::start_link_with::<Deep>(self_pid(), opts).unwrap();
        receive::<Pid>();
        let got = gen_server::call(s, 1000).unwrap();
        assert_eq!(got, (1..=1000u64).map(|d| d % 256).sum::<u64>());
        let info = process_info(Pid::from(s)).unwrap();
        assert_eq!(info.stack_reserved, 4 << 20);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_process_about_to_overflow_at_a_runtime_call_ends_alone() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let me = self_pid();
        // A bystander that must keep working through the overflow.
        let bystander = spawn(move || {
            loop {
                let from = receive::<Pid>();
                send(from, 7u8).unwrap();
            }
        })
        .unwrap();
        let opts = SpawnOpts {
            link: true,
            monitor: true,
            ..SpawnOpts::default()
        };
        let (pid, m) = spawn_opt(|| _ = recurse_calling_the_runtime(0), opts).unwrap();
        let watcher = spawn(move || {
            let m = monitor(pid);
            let down = receive::<Down>();
            assert_eq!(down.monitor, m);
            send(me, ("watcher", down.reason)).unwrap();
        })
        .unwrap();
        let _ = watcher;
        let down = receive_timeout::<Down>(WAIT).expect("a down");
        assert_eq!(
            (down.pid, Some(down.monitor), down.reason),
            (pid, m, ExitReason::StackOverflow)
        );
        let exit = receive_timeout::<Exit>(WAIT).expect("an exit signal");
        assert_eq!((exit.from, exit.reason), (pid, ExitReason::StackOverflow));
        let (_, reason) = receive_timeout::<(&str, ExitReason)>(WAIT).unwrap();
        // The watcher may have monitored after the exit: then it sees `NoProc`.
        assert!(
            matches!(reason, ExitReason::StackOverflow | ExitReason::NoProc),
            "{reason:?}"
        );
        send(bystander, me).unwrap();
        assert_eq!(receive_timeout::<u8>(WAIT), Some(7));
        // The runtime still spawns and runs processes, deep ones included.
        let got = spawn_opt(
            move || send(me, recurse(100)).unwrap(),
            SpawnOpts::default(),
        );
        assert!(got.is_ok());
        assert_eq!(receive::<u64>(), (1..=100u64).sum::<u64>());
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// Counts the drops of the frames an overflow unwinds.
static DROPPED: AtomicUsize = AtomicUsize::new(0);

struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        // A runtime call while unwinding in the red zone must not abort.
        reduce(1);
    }
}

fn recurse_with_destructors(depth: u64) -> u64 {
    let _guard = Counted;
    let mut frame = [depth as u8; 1024];
    std::hint::black_box(&mut frame);
    reduce(1);
    if depth == u64::MAX {
        return 0;
    }
    recurse_with_destructors(depth + 1) + u64::from(frame[0])
}

#[test]
fn an_overflow_unwinds_running_destructors_and_cannot_be_caught_for_good() {
    let rt = rt();
    rt.block_on(|| {
        let (pid, m) = beamlet::spawn_monitor(|| {
            // The first unwind is caught; the next switch raises it again, as a kill's.
            let caught = std::panic::catch_unwind(|| recurse_with_destructors(0));
            assert!(caught.is_err());
            beamlet::yield_now();
            unreachable!("the overflow is raised again");
        })
        .unwrap();
        let down = receive_timeout::<Down>(WAIT).expect("a down");
        assert_eq!(
            (down.pid, down.monitor, down.reason),
            (pid, m, ExitReason::StackOverflow)
        );
        // Every frame's destructor ran: about 220 frames fit in the default stack.
        assert!(DROPPED.load(Ordering::Relaxed) > 100);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_supervised_server_that_overflows_is_restarted() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let starts = Arc::new(AtomicUsize::new(0));
        let s2 = starts.clone();
        let spec = ChildSpec::worker("deep", move || {
            s2.fetch_add(1, Ordering::Relaxed);
            gen_server::start_link::<Deep>(me)
        });
        let _sup = supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
        let first = receive_timeout::<Pid>(WAIT).expect("started");
        let server = gen_server::ServerRef::<Deep>::from_pid(first);
        let m = monitor(first);
        let err = gen_server::call(server, u32::MAX).unwrap_err();
        let down = receive_timeout::<Down>(WAIT).expect("a down");
        assert_eq!((down.monitor, down.reason), (m, ExitReason::StackOverflow));
        assert!(format!("{err:?}").contains("StackOverflow"), "{err:?}");
        let second = receive_timeout::<Pid>(WAIT).expect("restarted");
        assert_ne!(second, first);
        assert_eq!(starts.load(Ordering::Relaxed), 2);
        let again = gen_server::ServerRef::<Deep>::from_pid(second);
        assert_eq!(
            gen_server::call(again, 100).unwrap(),
            (1..=100u64).sum::<u64>()
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// The lowest stack address a frame of [`recurse_recording`] had.
static DEEPEST: AtomicUsize = AtomicUsize::new(usize::MAX);

struct Noted;

impl Drop for Noted {
    fn drop(&mut self) {
        // A destructor that formats, as user destructors do.
        std::hint::black_box(format!("{:?}", std::hint::black_box(self as *const Noted)));
    }
}

fn recurse_recording(depth: u64) -> u64 {
    let _guard = Noted;
    let mut frame = [depth as u8; 1024];
    std::hint::black_box(&mut frame);
    DEEPEST.fetch_min(frame.as_ptr() as usize, Ordering::Relaxed);
    reduce(1);
    if depth == u64::MAX {
        return 0;
    }
    recurse_recording(depth + 1) + u64::from(frame[0])
}

const PAINT: u8 = 0xa5;

/// How far below the deepest frame the overflow's unwinding reached, measured by
/// painting the free stack first and finding the lowest byte that changed. The red
/// zone (`stack::RED_ZONE`, 32 KiB) is sized from this figure.
#[test]
fn red_zone_covers_the_unwind() {
    let rt = rt();
    rt.block_on(|| {
        let (_, m) = beamlet::spawn_monitor(move || {
            beamlet::yield_now();
            let info = process_info(self_pid()).unwrap();
            let probe = 0u8;
            let here = std::ptr::addr_of!(probe) as usize;
            // An estimate of the top from the depth published at the last switch; it
            // errs high (the switch was deeper than `here`), so `low` errs high too
            // and painting from it stays above the guard page.
            let low = here + info.stack_used - info.stack_reserved + 4096;
            let high = here - 16 * 1024;
            for a in low..high {
                // SAFETY: free stack of this process, below every live frame.
                unsafe { std::ptr::write_volatile(a as *mut u8, PAINT) };
            }
            let caught = std::panic::catch_unwind(|| recurse_recording(0));
            assert!(caught.is_err());
            let lowest = (low..high)
                // SAFETY: as above; reading back the painted range.
                .find(|&a| unsafe { std::ptr::read_volatile(a as *const u8) } != PAINT)
                .unwrap_or(high);
            let deepest = DEEPEST.load(Ordering::Relaxed);
            let below = deepest.saturating_sub(lowest);
            let left = lowest - low;
            eprintln!("red zone: unwinding reached {below} B below the deepest frame, {left} B above the guard left");
            // Not sent: a runtime call would raise the overflow again (it does on
            // return, and the process exits with it).
            BELOW.store(below, Ordering::Relaxed);
        })
        .unwrap();
        let down = receive_timeout::<Down>(WAIT).expect("a down");
        assert_eq!((down.monitor, down.reason), (m, ExitReason::StackOverflow));
    })
    .unwrap();
    let below = BELOW.load(Ordering::Relaxed);
    assert!(below > 0 && below < 32 * 1024, "unwinding used {below} B");
    let _ = rt.shutdown();
}

static BELOW: AtomicUsize = AtomicUsize::new(0);

/// Whether the page holding `addr` is resident.
fn resident(addr: usize) -> bool {
    let page = 4096;
    let mut vec = 0u8;
    // SAFETY: mincore only reads the page tables of our own mapping (the stack slab,
    // which outlives the runtime's processes) and writes one byte to `vec`.
    let rc = unsafe { libc::mincore((addr & !(page - 1)) as *mut libc::c_void, page, &mut vec) };
    assert_eq!(rc, 0, "mincore: {}", std::io::Error::last_os_error());
    vec & 1 != 0
}

/// Recurses `levels` levels of 1 KiB, calling the runtime at each; at the bottom,
/// reports the address of its deepest frame to `root` and waits for a go.
fn deep_then_wait(levels: u32, root: Pid) {
    let mut frame = [levels as u8; 1024];
    std::hint::black_box(&mut frame);
    reduce(1);
    if levels == 0 {
        send(root, frame.as_ptr() as usize).unwrap();
        receive::<()>();
        return;
    }
    deep_then_wait(levels - 1, root);
    std::hint::black_box(&frame);
}

#[test]
fn a_deep_process_gives_its_low_pages_back_when_its_stack_is_pooled() {
    let rt = rt();
    rt.block_on(|| {
        let root = self_pid();
        // More deep processes at once than the schedulers' caches keep deep stacks
        // for, all ~150 KiB deep (well below the 64 KiB deep mark).
        let pids: Vec<Pid> = (0..40)
            .map(|_| {
                beamlet::spawn_monitor(move || deep_then_wait(150, root))
                    .unwrap()
                    .0
            })
            .collect();
        let deepest: Vec<usize> = (0..40).map(|_| receive::<usize>()).collect();
        assert!(deepest.iter().all(|&a| resident(a)));
        for &p in &pids {
            send(p, ()).unwrap();
        }
        for _ in 0..40 {
            assert_eq!(receive::<Down>().reason, ExitReason::Normal);
        }
        // Idle schedulers return their cached stacks to the pool, releasing the low
        // pages of the deep ones (the 10 s bound only turns a failure into a report).
        let mut waited = 0;
        while deepest.iter().any(|&a| resident(a)) {
            assert!(waited < 1000, "deep pages still resident after 10 s");
            beamlet::sleep(Duration::from_millis(10));
            waited += 1;
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

//! Arena: a game server in the spirit of bulletz.io, where every player and every
//! bullet is a process.
//!
//! ```text
//! cargo run --release --example arena                      # 20 s, 100,000 bullets
//! cargo run --release --example arena -- 30 50000 2        # seconds, bullets, schedulers
//! BEAMLET_CI=1 cargo run --release --example arena         # 2 s, 2,000 bullets
//! cargo run --release --example arena -- 120 --observer 4000 # watched live in a browser
//! ```
//!
//! With `--observer PORT` the live observer serves `http://127.0.0.1:PORT/` during
//! the game: the regions, the players' DynamicSupervisor and every bullet.
//!
//! 1. The world is a square grid of cells, sharded into a 4 × 4 grid of **regions**,
//!    each a GenServer that knows which players stand in which of its cells. No
//!    process sees the whole world, so none is the bottleneck.
//! 2. **Players** are GenServers under a DynamicSupervisor. Each walks one cell every
//!    250 ms (telling its regions), and fires a bullet every few tens of
//!    milliseconds in a random direction: firing spawns a bullet process.
//! 3. A **bullet** is a plain process that ticks 30 times a second on `send_after`.
//!    On each tick it computes its position from its age and reports its cell to
//!    the region that cell is in, so it moves from region to region as it flies. It
//!    expires after its lifetime or at the edge of the world. A tick that comes
//!    later than scheduled is measured (the bullet's *lateness*), and a bullet more
//!    than one tick behind skips the ticks it missed, as a game loop does.
//! 4. A region that gets a bullet's report for a cell holding a player (not the
//!    shooter) casts `Hit` to the player and sends `Hit` to the bullet, which ends.
//! 5. A hit player loses health and respawns elsewhere when it has none left; one
//!    hit in `CRASH_ONE_IN` makes it panic instead (an injected crash). Its
//!    `terminate` leaves its region; the supervisor restarts it at a new place.
//! 6. Once a second the root prints live bullets, players, the tick rate achieved
//!    per bullet (bullet ticks processed per second ÷ live bullets; 30 is the
//!    target), tick lateness (mean and p99, from the regions' histograms), hits and
//!    restarts so far. At the end it stops everything and prints a summary line.
//!
//! Statistics travel with the bullets' reports: each region keeps its own counters,
//! which only it writes, and the root reads them once a second.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use beamlet::otp::dynamic_supervisor::{self, DynamicOptions};
use beamlet::otp::gen_server::{self, GenServer, Init, NoReply, ServerRef};
use beamlet::otp::supervisor::ChildSpec;
use beamlet::{ExitReason, Message, Pid, Runtime, self_pid, send, send_after, spawn};
use common::cli::Param;

/// Bullet ticks per second.
const TICKS_PER_SEC: u32 = 30;
/// Regions along each side of the world.
const REGIONS_PER_SIDE: u32 = 4;
/// Cells per player: sets the world's size, and so how often bullets hit.
const CELLS_PER_PLAYER: u32 = 256;
/// A bullet's speed in cells per second.
const BULLET_SPEED: f32 = 8.0;
/// How often a player steps to a neighbouring cell.
const PLAYER_STEP: Duration = Duration::from_millis(250);
/// Hits a player takes before it respawns.
const HEALTH: u32 = 5;
/// One hit in this many makes the player panic (an injected crash).
const CRASH_ONE_IN: u64 = 25;

fn tick_period() -> Duration {
    Duration::from_secs(1) / TICKS_PER_SEC
}

/// The command line: `arena [SECONDS] [BULLETS] [SCHEDULERS]`.
struct Options {
    seconds: u64,
    bullets: u64,
    schedulers: usize,
    /// The live observer's port (0: none).
    observer: u16,
}

fn options() -> Options {
    let ci = std::env::var_os("BEAMLET_CI").is_some();
    let (seconds, bullets) = if ci { (2, 2_000) } else { (20, 100_000) };
    let [seconds, bullets, schedulers, observer] = common::cli::ints(
        "arena",
        "arena: a game server where every player and every bullet is a process.\n\n\
         Environment: BEAMLET_CI=1 makes the defaults 2 s and 2,000 bullets.",
        [
            Param::new("SECONDS", seconds, "how long the game runs").min(1),
            Param::new("BULLETS", bullets, "bullets in flight to aim for").min(1),
            Param::new(
                "SCHEDULERS",
                0,
                "scheduler threads, 0 for one per available core",
            ),
            common::OBSERVER,
        ],
        false,
    );
    Options {
        seconds,
        bullets,
        schedulers: schedulers as usize,
        observer: observer as u16,
    }
}

/// The game's fixed facts, shared by every process.
struct World {
    /// Cells along each side.
    side: u32,
    /// The regions, row by row.
    regions: Vec<ServerRef<Region>>,
    players: u64,
    /// How long a bullet flies.
    lifetime: Duration,
    /// Time between one player's shots.
    fire_every: Duration,
    /// Bullets alive now.
    live_bullets: AtomicU64,
    /// Player starts, first ones and restarts.
    player_starts: AtomicU64,
    /// Set at the end: players stop firing, bullets stop at their next tick.
    stopping: AtomicBool,
}

impl World {
    /// The region that holds cell `cell`.
    fn region_of(&self, cell: Cell) -> ServerRef<Region> {
        let per_region = self.side.div_ceil(REGIONS_PER_SIDE);
        let (x, y) = (cell.0 % self.side, cell.0 / self.side);
        self.regions[((y / per_region) * REGIONS_PER_SIDE + x / per_region) as usize]
    }

    fn cell_at(&self, x: f32, y: f32) -> Option<Cell> {
        let side = self.side as f32;
        ((0.0..side).contains(&x) && (0.0..side).contains(&y))
            .then(|| Cell(y as u32 * self.side + x as u32))
    }
}

/// A cell's index, row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Cell(u32);

/// A small deterministic random number generator (xorshift64*), one per process.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A float in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }
}

// ---------------------------------------------------------------------------
// Lateness statistics
// ---------------------------------------------------------------------------

/// Histogram buckets: 1 µs wide below 8 µs, then four per power of two.
const BUCKETS: usize = 128;

fn bucket(late_us: u64) -> usize {
    if late_us < 8 {
        return late_us as usize;
    }
    let e = 63 - late_us.leading_zeros() as usize;
    let sub = ((late_us >> (e - 2)) & 3) as usize;
    (8 + (e - 3) * 4 + sub).min(BUCKETS - 1)
}

/// The upper edge of bucket `i`, in µs.
fn bucket_top_us(i: usize) -> u64 {
    if i < 8 {
        return i as u64 + 1;
    }
    let (e, sub) = ((i - 8) / 4 + 3, ((i - 8) % 4) as u64);
    (5 + sub) << (e - 2)
}

/// One region's running totals. Only the region writes them (load + store, no
/// read-modify-write needed); the root reads them once a second.
struct Counters {
    ticks: AtomicU64,
    late_ns: AtomicU64,
    hits: AtomicU64,
    histogram: [AtomicU64; BUCKETS],
}

impl Counters {
    fn new() -> Counters {
        Counters {
            ticks: AtomicU64::new(0),
            late_ns: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            histogram: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Ordering::Relaxed) + by, Ordering::Relaxed);
}

/// A copy of every region's counters added up, to subtract one second from the next.
#[derive(Clone)]
struct Snapshot {
    at: Instant,
    ticks: u64,
    late_ns: u64,
    hits: u64,
    histogram: [u64; BUCKETS],
}

impl Snapshot {
    fn take(all: &[Arc<Counters>]) -> Snapshot {
        let mut s = Snapshot {
            at: Instant::now(),
            ticks: 0,
            late_ns: 0,
            hits: 0,
            histogram: [0; BUCKETS],
        };
        for c in all {
            s.ticks += c.ticks.load(Ordering::Relaxed);
            s.late_ns += c.late_ns.load(Ordering::Relaxed);
            s.hits += c.hits.load(Ordering::Relaxed);
            for (sum, h) in s.histogram.iter_mut().zip(&c.histogram) {
                *sum += h.load(Ordering::Relaxed);
            }
        }
        s
    }

    /// Mean and p99 lateness in ms over the ticks between `before` and `self`.
    fn lateness_since(&self, before: &Snapshot) -> (f64, f64) {
        let ticks = self.ticks - before.ticks;
        if ticks == 0 {
            return (0.0, 0.0);
        }
        let mean = (self.late_ns - before.late_ns) as f64 / ticks as f64 / 1e6;
        let wanted = ticks - ticks / 100;
        let mut seen = 0;
        for i in 0..BUCKETS {
            seen += self.histogram[i] - before.histogram[i];
            if seen >= wanted {
                return (mean, bucket_top_us(i) as f64 / 1e3);
            }
        }
        (mean, bucket_top_us(BUCKETS - 1) as f64 / 1e3)
    }
}

// ---------------------------------------------------------------------------
// Regions
// ---------------------------------------------------------------------------

/// A shard of the world: the players standing in its cells.
struct Region {
    players: HashMap<Cell, Vec<ServerRef<Player>>>,
    counters: Arc<Counters>,
}

/// What regions are told.
enum RegionMsg {
    /// A bullet is in `cell` on this tick, `late_ns` behind its schedule.
    Bullet {
        bullet: Pid,
        shooter: Pid,
        cell: Cell,
        late_ns: u64,
    },
    /// A player now stands in `cell`.
    Enter(ServerRef<Player>, Cell),
    /// A player left `cell`.
    Leave(ServerRef<Player>, Cell),
}

/// A bullet's cue to end: it hit someone.
struct BulletHit;

impl GenServer for Region {
    type Args = Arc<Counters>;
    type Call = ();
    type Reply = ();
    type Cast = RegionMsg;
    type Continue = ();

    fn init(counters: Arc<Counters>) -> Init<Self, ()> {
        Init::Ok(Region {
            players: HashMap::new(),
            counters,
        })
    }

    fn handle_cast(&mut self, msg: RegionMsg) -> NoReply<()> {
        match msg {
            RegionMsg::Bullet {
                bullet,
                shooter,
                cell,
                late_ns,
            } => self.bullet_at(bullet, shooter, cell, late_ns),
            RegionMsg::Enter(player, cell) => self.players.entry(cell).or_default().push(player),
            RegionMsg::Leave(player, cell) => {
                if let Some(here) = self.players.get_mut(&cell) {
                    here.retain(|&p| p != player);
                    if here.is_empty() {
                        self.players.remove(&cell);
                    }
                }
            }
        }
        NoReply::Ok
    }
}

impl Region {
    /// Records the tick and looks for a player to hit.
    fn bullet_at(&mut self, bullet: Pid, shooter: Pid, cell: Cell, late_ns: u64) {
        let c = &self.counters;
        bump(&c.ticks, 1);
        bump(&c.late_ns, late_ns);
        bump(&c.histogram[bucket(late_ns / 1000)], 1);
        let target = self
            .players
            .get(&cell)
            .and_then(|here| here.iter().find(|p| p.pid() != shooter));
        if let Some(&player) = target {
            bump(&c.hits, 1);
            gen_server::cast(player, Hit);
            // The bullet may have expired meanwhile; then there is nothing to end.
            let _ = send(bullet, BulletHit);
        }
    }
}

// ---------------------------------------------------------------------------
// Players
// ---------------------------------------------------------------------------

/// A player: where it stands, its health, its dice.
struct Player {
    world: Arc<World>,
    me: ServerRef<Player>,
    cell: Cell,
    health: u32,
    rng: Rng,
}

/// A player's cue to fire (its own `send_after`).
struct Fire;
/// A player's cue to step (its own `send_after`).
struct Step;
/// A bullet hit the player.
struct Hit;

impl GenServer for Player {
    type Args = (u64, Arc<World>);
    type Call = ();
    type Reply = ();
    type Cast = Hit;
    type Continue = ();

    fn init((id, world): (u64, Arc<World>)) -> Init<Self, ()> {
        let starts = world.player_starts.fetch_add(1, Ordering::Relaxed);
        let mut rng = Rng::new(id << 32 | starts);
        let me = ServerRef::from_pid(self_pid());
        // Spread the first shots over one firing interval.
        let first_shot = world.fire_every.mul_f32(rng.unit());
        send_after(first_shot, self_pid(), Fire);
        send_after(PLAYER_STEP, self_pid(), Step);
        let mut player = Player {
            cell: Cell(0),
            world,
            me,
            health: HEALTH,
            rng,
        };
        player.respawn();
        Init::Ok(player)
    }

    fn handle_cast(&mut self, _: Hit) -> NoReply<()> {
        if self.world.stopping.load(Ordering::Relaxed) {
            return NoReply::Ok; // the game is over: no more crashes to restart
        }
        if self.rng.next() % CRASH_ONE_IN == 0 {
            panic!("injected crash");
        }
        self.health -= 1;
        if self.health == 0 {
            self.leave();
            self.respawn();
        }
        NoReply::Ok
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        if self.world.stopping.load(Ordering::Relaxed) {
            return NoReply::Ok;
        }
        if msg.is::<Fire>() {
            self.fire();
            send_after(self.world.fire_every, self_pid(), Fire);
        } else if msg.is::<Step>() {
            self.step();
            send_after(PLAYER_STEP, self_pid(), Step);
        }
        NoReply::Ok
    }

    fn terminate(&mut self, _: &ExitReason) {
        // Crashed or stopped: take this incarnation off the map.
        self.leave();
    }
}

impl Player {
    fn enter(&self) {
        gen_server::cast(
            self.world.region_of(self.cell),
            RegionMsg::Enter(self.me, self.cell),
        );
    }

    fn leave(&self) {
        gen_server::cast(
            self.world.region_of(self.cell),
            RegionMsg::Leave(self.me, self.cell),
        );
    }

    fn respawn(&mut self) {
        let side = self.world.side;
        self.cell = Cell(self.rng.below(side * side));
        self.health = HEALTH;
        self.enter();
    }

    /// Steps to a random neighbouring cell, or stays at the edge.
    fn step(&mut self) {
        let side = self.world.side as i64;
        let (x, y) = (i64::from(self.cell.0) % side, i64::from(self.cell.0) / side);
        let dx = i64::from(self.rng.below(3)) - 1;
        let dy = i64::from(self.rng.below(3)) - 1;
        let (nx, ny) = ((x + dx).clamp(0, side - 1), (y + dy).clamp(0, side - 1));
        let next = Cell((ny * side + nx) as u32);
        if next != self.cell {
            self.leave();
            self.cell = next;
            self.enter();
        }
    }

    /// Spawns a bullet from the centre of this cell in a random direction.
    fn fire(&mut self) {
        let side = self.world.side;
        let angle = self.rng.unit() * std::f32::consts::TAU;
        let shot = Shot {
            shooter: self.me.pid(),
            x: (self.cell.0 % side) as f32 + 0.5,
            y: (self.cell.0 / side) as f32 + 0.5,
            dx: angle.cos() * BULLET_SPEED,
            dy: angle.sin() * BULLET_SPEED,
        };
        let world = self.world.clone();
        world.live_bullets.fetch_add(1, Ordering::Relaxed);
        if spawn(move || bullet(&world, shot)).is_err() {
            // At the process limit: no bullet this time.
            self.world.live_bullets.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------
// Bullets
// ---------------------------------------------------------------------------

/// Where a bullet starts and how fast it goes (cells per second).
struct Shot {
    shooter: Pid,
    x: f32,
    y: f32,
    dx: f32,
    dy: f32,
}

/// A bullet's cue to move (its own `send_after`).
struct Tick;

/// A bullet's life: tick, report, until it expires, leaves the world or hits.
fn bullet(world: &World, shot: Shot) {
    let me = self_pid();
    let period = tick_period();
    let born = Instant::now();
    let mut tick: u32 = 1;
    send_after(period, me, Tick);
    loop {
        let msg = beamlet::receive_any();
        if !msg.is::<Tick>() {
            break; // BulletHit
        }
        let now = Instant::now();
        let scheduled = born + period * tick;
        let late_ns = now.saturating_duration_since(scheduled).as_nanos() as u64;
        let age = now - born;
        if age >= world.lifetime || world.stopping.load(Ordering::Relaxed) {
            break;
        }
        let t = age.as_secs_f32();
        let Some(cell) = world.cell_at(shot.x + shot.dx * t, shot.y + shot.dy * t) else {
            break; // left the world
        };
        let report = RegionMsg::Bullet {
            bullet: me,
            shooter: shot.shooter,
            cell,
            late_ns,
        };
        gen_server::cast(world.region_of(cell), report);
        // The next tick due after now: a bullet running behind skips missed ticks.
        let due = (age.as_nanos() / period.as_nanos()) as u32 + 1;
        tick = due.max(tick + 1);
        send_after(
            (born + period * tick).saturating_duration_since(now),
            me,
            Tick,
        );
    }
    world.live_bullets.fetch_sub(1, Ordering::Relaxed);
}

// ---------------------------------------------------------------------------
// The root: set up, report each second, shut down
// ---------------------------------------------------------------------------

/// CPU time this OS process has used (user + system), from `/proc/self/stat`; zero
/// where that is unavailable. Printed beside the tick rate because on a shared
/// machine the cores the arena actually got matter as much as how many there are.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name's closing parenthesis; utime and stime are the
    // 14th and 15th of the line, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn main() {
    let opts = options();
    let mut builder = Runtime::builder();
    if opts.schedulers > 0 {
        builder = builder.schedulers(opts.schedulers);
    }
    let rt = builder.build().expect("runtime");
    let schedulers = rt.schedulers();
    let observer = common::observer(&rt, opts.observer);
    let summary = rt.block_on(move || play(&opts, schedulers)).expect("arena");
    if let Some(obs) = observer {
        obs.stop();
    }
    let report = rt.shutdown();
    println!("{summary}; shutdown killed {} process(es)", report.killed);
}

/// Sets up the world, plays for the given time and returns the summary line.
fn play(opts: &Options, schedulers: usize) -> String {
    let players = (opts.bullets / 100).clamp(10, 2_000);
    let lifetime = Duration::from_secs(opts.seconds)
        .div_f32(4.0)
        .clamp(Duration::from_millis(500), Duration::from_secs(3));
    let side = ((players * u64::from(CELLS_PER_PLAYER)) as f64)
        .sqrt()
        .ceil() as u32;
    let side = side.div_ceil(REGIONS_PER_SIDE) * REGIONS_PER_SIDE;
    let counters: Vec<Arc<Counters>> = (0..REGIONS_PER_SIDE * REGIONS_PER_SIDE)
        .map(|_| Arc::new(Counters::new()))
        .collect();
    let regions = counters
        .iter()
        .map(|c| gen_server::start_link::<Region>(c.clone()).expect("region"))
        .collect();
    let world = Arc::new(World {
        side,
        regions,
        players,
        lifetime,
        fire_every: lifetime.mul_f64(players as f64 / opts.bullets as f64),
        live_bullets: AtomicU64::new(0),
        player_starts: AtomicU64::new(0),
        stopping: AtomicBool::new(false),
    });
    println!(
        "arena: {} bullets wanted at {TICKS_PER_SEC} ticks/s, {players} players, {side}x{side} cells in {} regions, bullet life {:?}, {schedulers} schedulers, {} s",
        opts.bullets,
        REGIONS_PER_SIDE * REGIONS_PER_SIDE,
        lifetime,
        opts.seconds
    );
    // Restarts are part of the game here: allow plenty before the supervisor gives up.
    let sup = dynamic_supervisor::start_link(DynamicOptions {
        max_restarts: 100_000,
        max_seconds: 1,
        max_children: None,
    })
    .expect("player supervisor");
    for id in 0..players {
        let w = world.clone();
        let spec = ChildSpec::worker(format!("player {id}"), move || {
            gen_server::start_link::<Player>((id, w.clone()))
        });
        dynamic_supervisor::start_child(sup, spec).expect("player");
    }
    let steady = report_each_second(&world, &counters, opts.seconds);
    stop(&world, sup);
    summary(&world, &steady, opts.bullets)
}

/// Averages over the seconds after the bullet population has built up.
#[derive(Default)]
struct Steady {
    seconds: u32,
    bullets: f64,
    ticks_per_sec: f64,
    late_mean_ms: f64,
    late_p99_ms: f64,
    hits: u64,
    /// CPU cores used on average.
    cores: f64,
    /// Player restarts by the last report.
    restarts: u64,
}

/// Prints one line a second for `seconds`; returns the steady-state averages.
fn report_each_second(world: &World, counters: &[Arc<Counters>], seconds: u64) -> Steady {
    let start = Snapshot::take(counters);
    let mut last = start.clone();
    let mut last_cpu = cpu_time();
    let mut last_live = world.live_bullets.load(Ordering::Relaxed);
    let mut steady = Steady::default();
    let mut p99s = Vec::new();
    for second in 1..=seconds {
        beamlet::sleep(
            (start.at + Duration::from_secs(second)).saturating_duration_since(Instant::now()),
        );
        let now = Snapshot::take(counters);
        let live = world.live_bullets.load(Ordering::Relaxed);
        let secs = (now.at - last.at).as_secs_f64();
        // Per bullet alive during the second: the mean of its start and end counts.
        let mean_live = ((last_live + live) as f64 / 2.0).max(1.0);
        let tick_rate = (now.ticks - last.ticks) as f64 / secs / mean_live;
        last_live = live;
        let (mean, p99) = now.lateness_since(&last);
        let restarts = world.player_starts.load(Ordering::Relaxed) - world.players;
        let cpu = cpu_time();
        let cores = (cpu - last_cpu).as_secs_f64() / secs;
        println!(
            "t={second:>3}s  bullets {live:>7}  players {}  ticks/s per bullet {tick_rate:>5.1}  late mean {mean:>6.2} ms p99 {p99:>7.2} ms  hits {:>6.0}/s  restarts {restarts}  cpu {cores:.2} cores",
            world.players,
            (now.hits - last.hits) as f64 / secs
        );
        last_cpu = cpu;
        steady.restarts = restarts;
        // Only whole seconds that began once the first bullets could have expired.
        if Duration::from_secs(second - 1) >= world.lifetime {
            steady.seconds += 1;
            steady.bullets += live as f64;
            steady.ticks_per_sec += tick_rate;
            steady.late_mean_ms += mean;
            steady.hits += now.hits - last.hits;
            steady.cores += cores;
            p99s.push(p99);
        }
        last = now;
    }
    if steady.seconds > 0 {
        let n = f64::from(steady.seconds);
        steady.bullets /= n;
        steady.ticks_per_sec /= n;
        steady.late_mean_ms /= n;
        steady.cores /= n;
        p99s.sort_by(f64::total_cmp);
        steady.late_p99_ms = p99s[p99s.len() / 2];
    }
    steady
}

/// Stops the players (the supervisor first), lets the bullets end on their next
/// tick, then stops the regions.
fn stop(world: &World, sup: ServerRef<dynamic_supervisor::DynamicSupervisor>) {
    world.stopping.store(true, Ordering::Relaxed);
    gen_server::stop(sup, ExitReason::Normal, Duration::from_secs(30)).expect("stop players");
    while world.live_bullets.load(Ordering::Relaxed) > 0 {
        beamlet::sleep(tick_period());
    }
    for &region in &world.regions {
        gen_server::stop(region, ExitReason::Normal, Duration::from_secs(30)).expect("stop region");
    }
}

fn summary(world: &World, steady: &Steady, wanted: u64) -> String {
    let restarts = steady.restarts;
    if steady.seconds == 0 {
        return format!(
            "summary: too short to reach a steady state (bullet life {:?}); restarts {restarts}",
            world.lifetime
        );
    }
    format!(
        "summary: over the last {} s, {:.0} live bullets (wanted {wanted}), {:.1} ticks/s per bullet (target {TICKS_PER_SEC}), {:.0} bullet ticks/s, lateness mean {:.2} ms, p99 {:.2} ms (median second), {} hits, {restarts} player restarts, {:.2} cores used",
        steady.seconds,
        steady.bullets,
        steady.ticks_per_sec,
        steady.bullets * steady.ticks_per_sec,
        steady.late_mean_ms,
        steady.late_p99_ms,
        steady.hits,
        steady.cores,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_cover_their_values() {
        let mut last = 0;
        for us in 0..100_000u64 {
            let b = bucket(us);
            assert!(b >= last, "bucket({us}) went down");
            assert!(bucket_top_us(b) > us, "bucket {b} tops below {us}");
            last = b;
        }
    }
}

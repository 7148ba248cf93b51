//! Crash reports: an abnormal exit nobody links to or monitors is logged through
//! `log` (target `beamlet::crash`), naming the pid and the panic; observed or normal
//! exits are not.

use std::sync::Mutex;
use std::time::Duration;

use beamlet::{Down, Runtime, receive_timeout, spawn, spawn_monitor};

static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        if record.target() == "beamlet::crash" {
            RECORDS
                .lock()
                .unwrap()
                .push(format!("{} {}", record.level(), record.args()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: Capture = Capture;

#[test]
fn unobserved_crashes_are_reported_observed_ones_are_not() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let lonely = rt
        .block_on(|| {
            let (observed, _) = spawn_monitor(|| panic!("observed crash")).unwrap();
            receive_timeout::<Down>(Duration::from_secs(10)).unwrap();
            let _ = observed;
            spawn(|| ()).unwrap();
            let (_, _) = spawn_monitor(|| ()).unwrap();
            receive_timeout::<Down>(Duration::from_secs(10)).unwrap();
            let lonely = spawn(|| panic!("lonely crash")).unwrap();
            beamlet::sleep(Duration::from_millis(50));
            lonely
        })
        .unwrap();
    let _ = rt.shutdown();
    let records = RECORDS.lock().unwrap().clone();
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(records[0].starts_with("ERROR"));
    assert!(records[0].contains(&lonely.to_string()), "{records:?}");
    assert!(records[0].contains("lonely crash"));
    assert!(records[0].contains("crash_report.rs"), "names the location");
}

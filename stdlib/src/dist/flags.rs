//! The distribution capability flags (`DFLAG_*`) a node advertises in the handshake.
//!
//! Values are OTP's, checked against `lib/kernel/include/dist.hrl` of OTP 25.2.3 (the
//! values never change between releases; new flags only take new bits). Each side
//! sends its flags in `send_name` / `send_challenge`; the connection then uses the
//! intersection (`dist_util:adjust_flags/2`), and each side refuses a peer that
//! lacks one of its mandatory flags.
//!
//! What we advertise ([`ADVERTISED`]) and why:
//!
//! 1. [`MANDATORY`], which OTP 25 requires of every peer (`MANDATORY_DFLAGS_25`),
//!    so an OTP 25+ node accepts us at all.
//! 2. The features the connection process implements on top: [`DIST_MONITOR`] and
//!    [`DIST_MONITOR_NAME`] (remote monitors), [`SMALL_ATOM_TAGS`] (we decode
//!    `SMALL_ATOM_UTF8_EXT`), [`UNLINK_ID`] (the OTP 23 unlink protocol, which
//!    newer OTP releases expect), [`ALIAS`] (process aliases), [`SEND_SENDER`]
//!    (`SEND_SENDER` control messages carry the sending pid), [`SPAWN`]
//!    (`SPAWN_REQUEST`, which OTP 23+ `rpc:call` and `erpc:call` use: without
//!    it OTP 25 answers `{badrpc, notsup}` without asking; see `dist::rpc`).
//! 3. [`PUBLISHED`] only when the node is visible, not hidden (the caller adds it:
//!    [`advertised`]); without it OTP lists us under `nodes(hidden)`.
//!
//! What we leave off, and why:
//!
//! - [`ATOM_CACHE`], [`DIST_HDR_ATOM_CACHE`]: the atom cache needs per-connection
//!   state in the encoder; without the flag the peer sends plain atoms.
//! - [`FRAGMENTS`]: we would have to reassemble fragmented messages; without the
//!   flag the peer sends each message whole.
//! - [`MANDATORY_25_DIGEST`]: a shorthand for [`MANDATORY`] that OTP 25 peers
//!   understand; we send the flags themselves, which every OTP 23+ peer reads. We
//!   do expand it when a peer sends it ([`expand_mandatory_25`]).
//! - [`NAME_ME`]: dynamic node names; we always have a static name.
//! - [`V4_NC`], [`EXIT_PAYLOAD`], [`BIG_SEQTRACE_LABELS`], [`UNICODE_IO`],
//!   [`HIDDEN_ATOM_CACHE`]: features the connection does not implement.

/// The node is visible (`nodes()`), not hidden (`nodes(hidden)`).
pub const PUBLISHED: u64 = 0x01;
/// The old atom cache (obsolete).
pub const ATOM_CACHE: u64 = 0x02;
/// Extended references (`NEW_REFERENCE_EXT`); mandatory.
pub const EXTENDED_REFERENCES: u64 = 0x04;
/// Remote process monitors.
pub const DIST_MONITOR: u64 = 0x08;
/// The `FUN_EXT` tag; mandatory in OTP 25.
pub const FUN_TAGS: u64 = 0x10;
/// Remote monitors of registered names.
pub const DIST_MONITOR_NAME: u64 = 0x20;
/// The atom cache on hidden connections (obsolete).
pub const HIDDEN_ATOM_CACHE: u64 = 0x40;
/// `NEW_FUN_EXT`; mandatory.
pub const NEW_FUN_TAGS: u64 = 0x80;
/// Extended pids and ports (`NEW_PID_EXT` era); mandatory.
pub const EXTENDED_PIDS_PORTS: u64 = 0x100;
/// `EXPORT_EXT` (`fun M:F/A`); mandatory.
pub const EXPORT_PTR_TAG: u64 = 0x200;
/// `BIT_BINARY_EXT`; mandatory.
pub const BIT_BINARIES: u64 = 0x400;
/// `NEW_FLOAT_EXT`; mandatory.
pub const NEW_FLOATS: u64 = 0x800;
/// Unicode io (group leader protocol).
pub const UNICODE_IO: u64 = 0x1000;
/// The atom cache in the distribution header.
pub const DIST_HDR_ATOM_CACHE: u64 = 0x2000;
/// `SMALL_ATOM_EXT` / `SMALL_ATOM_UTF8_EXT`.
pub const SMALL_ATOM_TAGS: u64 = 0x4000;
/// UTF-8 atoms (`ATOM_UTF8_EXT`); mandatory.
pub const UTF8_ATOMS: u64 = 0x1_0000;
/// `MAP_EXT`; mandatory.
pub const MAP_TAG: u64 = 0x2_0000;
/// 32-bit creations (`NEW_PID_EXT`, `NEWER_REFERENCE_EXT`); mandatory.
pub const BIG_CREATION: u64 = 0x4_0000;
/// The `SEND_SENDER` control message.
pub const SEND_SENDER: u64 = 0x8_0000;
/// Sequential trace labels of any term.
pub const BIG_SEQTRACE_LABELS: u64 = 0x10_0000;
/// Exit and link signals with payloads (`PAYLOAD_EXIT`, ...).
pub const EXIT_PAYLOAD: u64 = 0x40_0000;
/// Fragmented distribution messages.
pub const FRAGMENTS: u64 = 0x80_0000;
/// The OTP 23 handshake (`N` messages with 64-bit flags); mandatory.
pub const HANDSHAKE_23: u64 = 0x100_0000;
/// The unlink protocol with ids (`UNLINK_ID`, `UNLINK_ID_ACK`).
pub const UNLINK_ID: u64 = 0x200_0000;
/// Shorthand for all of [`MANDATORY`] (OTP 25+).
pub const MANDATORY_25_DIGEST: u64 = 0x400_0000;
/// `SPAWN_REQUEST` / `SPAWN_REPLY`.
pub const SPAWN: u64 = 1 << 32;
/// A dynamic node name assigned by the accepting node.
pub const NAME_ME: u64 = 2 << 32;
/// Pids, ports and references with 64-bit ids (`V4_PORT_EXT`).
pub const V4_NC: u64 = 4 << 32;
/// Process aliases (`ALIAS_SEND`, `ALIAS_SEND_TT`).
pub const ALIAS: u64 = 8 << 32;

/// The flags OTP 25 requires of a peer (`MANDATORY_DFLAGS_25` in `dist.hrl`):
/// `dist_util:check_dflags/2` refuses a connection missing any of them, and so do we.
pub const MANDATORY: u64 = EXTENDED_REFERENCES
    | FUN_TAGS
    | EXTENDED_PIDS_PORTS
    | NEW_FUN_TAGS
    | EXPORT_PTR_TAG
    | BIT_BINARIES
    | NEW_FLOATS
    | UTF8_ATOMS
    | MAP_TAG
    | BIG_CREATION
    | HANDSHAKE_23;

/// The flags a beamlet node advertises, [`PUBLISHED`] aside (see the module header
/// for each choice).
pub const ADVERTISED: u64 = MANDATORY
    | DIST_MONITOR
    | DIST_MONITOR_NAME
    | SMALL_ATOM_TAGS
    | UNLINK_ID
    | ALIAS
    | SEND_SENDER
    | SPAWN;

/// The flags to send: [`ADVERTISED`], plus [`PUBLISHED`] unless the node is hidden.
///
/// # Examples
///
/// ```
/// use beamlet::otp::dist::flags;
/// assert_eq!(flags::advertised(true) & flags::PUBLISHED, 0);
/// assert_ne!(flags::advertised(false) & flags::PUBLISHED, 0);
/// assert_eq!(flags::advertised(false) & flags::MANDATORY, flags::MANDATORY);
/// ```
pub const fn advertised(hidden: bool) -> u64 {
    if hidden {
        ADVERTISED
    } else {
        ADVERTISED | PUBLISHED
    }
}

/// A peer's flags with [`MANDATORY_25_DIGEST`] expanded into the flags it stands for
/// (`dist_util:expand_mandatory_25_flag/1`).
///
/// # Examples
///
/// ```
/// use beamlet::otp::dist::flags;
/// let expanded = flags::expand_mandatory_25(flags::MANDATORY_25_DIGEST);
/// assert_eq!(flags::missing_mandatory(expanded), 0);
/// ```
pub const fn expand_mandatory_25(peer: u64) -> u64 {
    if peer & MANDATORY_25_DIGEST != 0 {
        peer | MANDATORY
    } else {
        peer
    }
}

/// The mandatory flags missing from a peer's (already expanded) flags; 0 if none.
///
/// # Examples
///
/// ```
/// use beamlet::otp::dist::flags;
/// assert_eq!(flags::missing_mandatory(flags::ADVERTISED), 0);
/// assert_eq!(flags::missing_mandatory(flags::MANDATORY & !flags::MAP_TAG), flags::MAP_TAG);
/// ```
pub const fn missing_mandatory(peer: u64) -> u64 {
    MANDATORY & !peer
}

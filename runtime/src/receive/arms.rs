//! [`receive!`](crate::receive!): Erlang's `receive` with typed arms, guards and an
//! `after` timeout, on top of [`receive_select`](crate::receive_select).
//!
//! # How an expansion works
//!
//! 1. The arms are parsed by a token muncher (`@arm`, `@ty`, `@body`, `@after`):
//!    a type is every token between the binding's `:` and `if` or `=>` (a `ty`
//!    fragment may not be followed by `if`, hence the munching).
//! 2. One [`receive_select`](crate::receive_select) scans the mailbox from the
//!    oldest message. For each message it tries the arms in order (`@pred`): an
//!    arm matches if the message is of its type and its guard, if any, holds for a
//!    reference to it. The first match is taken out of the mailbox and the index of
//!    its arm remembered; nothing else moves, so skipped messages stay where they
//!    were, in order (the receive engine removes the one node, it never copies or
//!    re-queues).
//! 3. With the message out of the mailbox, the remembered arm's body runs
//!    (`@dispatch`), outside the predicate: a body may call the runtime, receive
//!    again, `return`, `break` or use `?`.
//! 4. No match before the `after` timeout: the `after` body runs.
//!
//! The arm indices are constant expressions (`0usize + 1 + 1`), built the same
//! way by `@pred` and `@dispatch`, so the two always agree.

/// Receives the first message, in mailbox order, that matches one of several typed
/// arms (Erlang's `receive ... after ... end`), and evaluates that arm's body.
///
/// ```text
/// receive! {
///     BINDING: TYPE => BODY,
///     BINDING: TYPE if GUARD => BODY,
///     ...
///     after TIMEOUT => BODY,   // optional, last
/// }
/// ```
///
/// - An arm matches a message of type `TYPE` for which `GUARD` (if given) is true.
///   `BINDING` is a name, `_`, or a tuple pattern such as `(tag, value)`; in the
///   guard it is bound to a **reference** to the message (as in
///   [`receive_match`](crate::receive_match)), in the body to the message itself.
/// - The mailbox is scanned from its oldest message; the first message that
///   matches an arm is taken out (the earliest arm wins if several match it).
///   Messages of other types, or failing the guards, stay in the mailbox, in
///   their order.
/// - The body runs after the message was taken out: it may call the runtime,
///   receive again, `return`, `break` out of an enclosing loop, or use `?`. A
///   guard runs while the mailbox is being scanned and must not call the runtime
///   (send, receive, spawn, ...).
/// - `after TIMEOUT` (a [`Duration`](std::time::Duration)) ends the wait when no
///   message matched in time, and evaluates to its body; `after Duration::ZERO`
///   only looks at what is already there (a poll), and `Duration::MAX` waits for
///   ever. Without `after`, `receive!` waits until a message matches.
/// - A body that is a block may leave out the comma after it, as in `match`.
///   All bodies have the same type: the value of the `receive!`.
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet::{receive, self_pid, send, Runtime};
///
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let me = self_pid();
///     send(me, "hi".to_string()).unwrap();
///     send(me, 7u32).unwrap();
///     send(me, "hello".to_string()).unwrap();
///     let next = || receive! {
///         n: u32 => n as u64,
///         s: String if s.len() > 3 => s.len() as u64,
///         after Duration::from_millis(50) => 0,
///     };
///     assert_eq!(next(), 7);  // "hi" fails the guard and stays
///     assert_eq!(next(), 5);  // "hello"
///     assert_eq!(next(), 0);  // only "hi" is left: the timeout
///     assert_eq!(receive::<String>(), "hi");
/// }).unwrap();
/// rt.shutdown();
/// ```
///
/// Tuple bindings, and a loop that ends on one kind of message:
///
/// ```
/// use beamlet::{receive, self_pid, send, Runtime};
///
/// enum Stop { Now }
/// let rt = Runtime::builder().build().unwrap();
/// let total = rt.block_on(|| {
///     let me = self_pid();
///     for i in 1..=3u32 { send(me, ("add", i)).unwrap(); }
///     send(me, Stop::Now).unwrap();
///     let mut total = 0;
///     loop {
///         receive! {
///             (op, n): (&str, u32) if *op == "add" => total += n,
///             _: Stop => break,
///         }
///     }
///     total
/// }).unwrap();
/// assert_eq!(total, 6);
/// rt.shutdown();
/// ```
#[macro_export]
macro_rules! receive {
    // ---- 1. parsing: one arm at a time ----
    // `BINDING: ...`: munch the type's tokens.
    (@arm [$($arms:tt)*] $p:tt : $($rest:tt)+) => {
        $crate::receive!(@ty [$($arms)*] $p [] $($rest)+)
    };
    (@arm [$($arms:tt)*] after $t:expr => $($rest:tt)+) => {
        $crate::receive!(@after [$($arms)*] ($t) $($rest)+)
    };
    (@arm [$($arms:tt)+]) => {
        $crate::receive!(@emit [$($arms)+])
    };
    (@arm [] ) => {
        ::core::compile_error!("receive! needs at least one arm (`name: Type => body`) or `after`")
    };
    (@arm [$($arms:tt)*] $($rest:tt)+) => {
        ::core::compile_error!(
            "receive!: expected an arm `name: Type => body`, `name: Type if guard => body` \
             or `after timeout => body`"
        )
    };
    (@ty [$($arms:tt)*] $p:tt [$($ty:tt)+] if $g:expr => $($rest:tt)+) => {
        $crate::receive!(@body [$($arms)*] $p ($($ty)+) (if $g) $($rest)+)
    };
    (@ty [$($arms:tt)*] $p:tt [$($ty:tt)+] => $($rest:tt)+) => {
        $crate::receive!(@body [$($arms)*] $p ($($ty)+) () $($rest)+)
    };
    (@ty [$($arms:tt)*] $p:tt [$($ty:tt)*] $next:tt $($rest:tt)+) => {
        $crate::receive!(@ty [$($arms)*] $p [$($ty)* $next] $($rest)+)
    };
    // A block body needs no comma before the next arm, as in `match`.
    (@body [$($arms:tt)*] $p:tt $ty:tt $g:tt $b:block $(,)?) => {
        $crate::receive!(@arm [$($arms)* { $p $ty $g $b }])
    };
    (@body [$($arms:tt)*] $p:tt $ty:tt $g:tt $b:block , $($rest:tt)+) => {
        $crate::receive!(@arm [$($arms)* { $p $ty $g $b }] $($rest)+)
    };
    (@body [$($arms:tt)*] $p:tt $ty:tt $g:tt $b:block after $($rest:tt)+) => {
        $crate::receive!(@arm [$($arms)* { $p $ty $g $b }] after $($rest)+)
    };
    (@body [$($arms:tt)*] $p:tt $ty:tt $g:tt $b:block $q:tt : $($rest:tt)+) => {
        $crate::receive!(@arm [$($arms)* { $p $ty $g $b }] $q : $($rest)+)
    };
    (@body [$($arms:tt)*] $p:tt $ty:tt $g:tt $b:expr , $($rest:tt)*) => {
        $crate::receive!(@arm [$($arms)* { $p $ty $g $b }] $($rest)*)
    };
    (@body [$($arms:tt)*] $p:tt $ty:tt $g:tt $b:expr) => {
        $crate::receive!(@arm [$($arms)* { $p $ty $g $b }])
    };
    (@after [$($arms:tt)*] $t:tt $b:expr $(,)?) => {
        $crate::receive!(@emit [$($arms)*] $t $b)
    };
    (@after [$($arms:tt)*] $t:tt $b:expr , $($rest:tt)+) => {
        ::core::compile_error!("receive!: `after` must be the last arm")
    };

    // ---- 2. the receive ----
    // Without `after`: wait for ever.
    (@emit [$($arms:tt)+]) => {
        match $crate::receive!(@select (::core::option::Option::None) $($arms)+) {
            (::core::option::Option::Some(__msg), __which) => {
                $crate::receive!(@dispatch __msg __which (0usize) $($arms)+)
            }
            (::core::option::Option::None, _) => {
                ::core::unreachable!("receive! without `after` waits until a message matches")
            }
        }
    };
    (@emit [$($arms:tt)*] ($t:expr) $after:tt) => {
        match $crate::receive!(@select (::core::option::Option::Some($t)) $($arms)*) {
            (::core::option::Option::Some(__msg), __which) => {
                $crate::receive!(@dispatch __msg __which (0usize) $($arms)*)
            }
            (::core::option::Option::None, _) => $after,
        }
    };
    // The scan: the message taken (if any) and the index of the arm it matched.
    (@select ($timeout:expr) $($arms:tt)*) => {{
        let mut __which: usize = usize::MAX;
        let __found = $crate::receive_select(
            ::core::option::Option::None,
            |__m: &$crate::Message| {
                let _ = __m;
                $crate::receive!(@pred __m __which (0usize) $($arms)*)
            },
            $timeout,
        );
        (__found, __which)
    }};
    (@pred $m:ident $w:ident ($i:expr) { $p:tt ($($ty:tt)+) $g:tt $b:tt } $($rest:tt)*) => {
        if $crate::receive!(@test $m $p ($($ty)+) $g) {
            $w = $i;
            true
        } else {
            $crate::receive!(@pred $m $w ($i + 1) $($rest)*)
        }
    };
    (@pred $m:ident $w:ident ($i:expr)) => {
        false
    };
    (@test $m:ident $p:tt ($($ty:tt)+) ()) => {
        $m.is::<$($ty)+>()
    };
    (@test $m:ident $p:tt ($($ty:tt)+) (if $g:expr)) => {{
        // The guard may use only part of a tuple binding.
        #[allow(unused_variables)]
        let __pass = match $m.downcast_ref::<$($ty)+>() {
            ::core::option::Option::Some($p) => $g,
            ::core::option::Option::None => false,
        };
        __pass
    }};
    // ---- 3. the chosen arm's body, with the message out of the mailbox ----
    (@dispatch $m:ident $w:ident ($i:expr) { $p:tt ($($ty:tt)+) () $b:tt } $($rest:tt)*) => {
        if $w == $i {
            match $m.downcast::<$($ty)+>() {
                ::core::result::Result::Ok($p) => $b,
                ::core::result::Result::Err(_) => {
                    ::core::unreachable!("receive!: the arm matched this type")
                }
            }
        } else {
            $crate::receive!(@dispatch $m $w ($i + 1) $($rest)*)
        }
    };
    // A binding the guard used counts as used, as in `match`: the body need not.
    (@dispatch $m:ident $w:ident ($i:expr) { $p:tt ($($ty:tt)+) (if $($g:tt)*) $b:tt } $($rest:tt)*) => {
        if $w == $i {
            match $m.downcast::<$($ty)+>() {
                ::core::result::Result::Ok(__value) => {
                    #[allow(unused_variables)]
                    let $p = __value;
                    $b
                }
                ::core::result::Result::Err(_) => {
                    ::core::unreachable!("receive!: the arm matched this type")
                }
            }
        } else {
            $crate::receive!(@dispatch $m $w ($i + 1) $($rest)*)
        }
    };
    (@dispatch $m:ident $w:ident ($i:expr)) => {{
        let _ = $m;
        ::core::unreachable!("receive!: a message was taken only if an arm matched it")
    }};

    // ---- entry ----
    ($($body:tt)*) => {
        $crate::receive!(@arm [] $($body)*)
    };
}

//! What the distribution tests share besides the erl node (`super::erl`).

use beamlet::otp::dist::term::serde::Serde;
use beamlet::otp::gen_server::{CallReply, Caller, GenServer, Init};

/// A counter server other nodes call: a call adds its number and answers the total.
pub(crate) struct Counter(i64);

impl GenServer for Counter {
    type Args = i64;
    type Call = i64;
    type Reply = i64;
    type Cast = i64;
    type Continue = ();
    fn init(start: i64) -> Init<Self, ()> {
        Init::Ok(Counter(start))
    }
    fn handle_call(&mut self, add: i64, _: Caller<i64>) -> CallReply<i64, ()> {
        self.0 += add;
        CallReply::Reply(self.0)
    }
}

/// What [`Stock`] is asked, as serde maps it: `{add, #{item => Item, count => N}}`,
/// `{count, Item}`, `list`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StockCall {
    Add { item: String, count: u32 },
    Count(String),
    List,
}

/// One item and how many there are: `#{item => Item, count => N}`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub(crate) item: String,
    pub(crate) count: u32,
}

/// What [`Stock`] answers: `{count, N}` or `{lines, [Line]}`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StockReply {
    Count(u32),
    Lines(Vec<Line>),
}

/// An inventory server whose requests and replies are derived serde types.
pub(crate) struct Stock(std::collections::BTreeMap<String, u32>);

impl GenServer for Stock {
    type Args = ();
    type Call = Serde<StockCall>;
    type Reply = Serde<StockReply>;
    type Cast = Serde<StockCall>;
    type Continue = ();
    fn init((): ()) -> Init<Self, ()> {
        Init::Ok(Stock(Default::default()))
    }
    fn handle_call(
        &mut self,
        Serde(call): Serde<StockCall>,
        _: Caller<Serde<StockReply>>,
    ) -> CallReply<Serde<StockReply>, ()> {
        let reply = match call {
            StockCall::Add { item, count } => {
                let total = self.0.entry(item).or_default();
                *total += count;
                StockReply::Count(*total)
            }
            StockCall::Count(item) => StockReply::Count(self.0.get(&item).copied().unwrap_or(0)),
            StockCall::List => StockReply::Lines(
                self.0
                    .iter()
                    .map(|(item, count)| Line {
                        item: item.clone(),
                        count: *count,
                    })
                    .collect(),
            ),
        };
        CallReply::Reply(Serde(reply))
    }
}

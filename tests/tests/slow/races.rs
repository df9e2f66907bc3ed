//! Races at scale (`tests/src/race.rs`): 1,000 concurrent clients on one event, in-process
//! through the real handlers, with the three jobs running in loops through their real Lambda
//! handlers and short timers, so locks, confirms, pays, cancels, releases, replays and expiries
//! all race each other, over two categories, while an admin raises and lowers seats and closes
//! and reopens the sales. `race::run` checks the end state, per event and per category, against
//! every answer the clients got.
use booking_tests::race::{self, RaceConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow proof: infra/local/test.sh runs it (cargo test --test slow -- --ignored)"]
async fn a_thousand_clients_on_one_event_never_oversell_or_lose_an_answer() {
    let config = RaceConfig::ci();
    assert_eq!((config.clients, config.events), (1_000, 1));
    let report = race::run(config).await;
    eprintln!("{report}");
    report.assert_every_outcome_happened();
    // Oversubscribed: more seats were asked for than the event has, and it still sold no more
    // than it has (race::run checked sold <= total and sold = the paid bookings' seats).
    let (total, _, sold) = report.events[0];
    assert!(sold <= total);
}

//! One DynamoDB request per state change, replays and refusals included, counted on the wire
//! (`tests/src/request_counts.rs`; the benchmark prints the same table).
use booking_tests::request_counts;

#[tokio::test]
async fn each_lock_confirm_and_pay_is_one_dynamodb_request() {
    let rows = request_counts::per_operation().await;
    let expected = [
        // A lock pins the event's date and per-user limit in its condition; a process learns
        // them with one read the first time it locks a seat of that event, then never again.
        ("lock, the first of an event this process has not seen", 201, "1 GetItem, 1 TransactWriteItems"),
        ("lock", 201, "1 TransactWriteItems"),
        ("lock again, same key (replay)", 200, "1 TransactWriteItems"),
        ("lock refused (USER_LIMIT_REACHED)", 409, "1 TransactWriteItems"),
        ("lock refused (SEATS_UNAVAILABLE)", 409, "1 TransactWriteItems"),
        ("confirm", 201, "1 UpdateItem"),
        ("confirm again (replay)", 200, "1 UpdateItem"),
        ("pay", 200, "1 UpdateItem"),
        ("pay again, same reference (replay)", 200, "1 UpdateItem"),
        // Handing seats back needs the hold's seat count in the event's update, and a
        // transaction cannot read: one read, then one transaction whose conditions decide.
        ("cancel", 200, "1 GetItem, 1 TransactWriteItems"),
        ("release", 200, "1 GetItem, 1 TransactWriteItems"),
        // Four index buckets queried, then one transaction per stale hold.
        ("lock-expiry run expiring 1 lock", 200, "4 Query, 1 TransactWriteItems"),
        // The admin's role (read at request time), the event as it is (to pin what changes), one
        // conditional write.
        ("change an event (PATCH: raise seats)", 200, "2 GetItem, 1 UpdateItem"),
        // The role, one transaction (status + the cancellation list), the event to answer with.
        ("cancel an event", 200, "2 GetItem, 1 TransactWriteItems"),
        // Four booking buckets, the cancellation list, the event's live holds twice (the second
        // pass finds none), one transaction for the hold, and the list entry deleted.
        (
            "booking-expiry run handing back the 1 live hold of a cancelled event",
            200,
            "1 DeleteItem, 7 Query, 1 TransactWriteItems",
        ),
    ];
    let seen: Vec<_> = rows.iter().map(|r| (r.operation, r.status, r.requests_text())).collect();
    let wanted: Vec<_> = expected.iter().map(|(o, s, r)| (*o, *s, r.to_string())).collect();
    assert_eq!(seen, wanted);
}

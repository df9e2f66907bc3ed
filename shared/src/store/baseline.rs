//! Exists only for the benchmark (`tests/benches/bench.rs`, behind the `bench` feature): the
//! exact requests the handlers send, built by the same code, so the benchmark can send them bare
//! as its baseline. No function uses this module.
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::TransactWriteItem;

use super::expiry::StaleHold;
use super::write::returning_items;
use super::{Store, StoreError};
use crate::domain::booking::PaymentReference;
use crate::domain::event::Terms;
use crate::domain::ids::HoldRef;
use crate::domain::lock::{Lock, NewLock, Window};
use crate::domain::user::Caller;
use crate::time::Timestamp;
use crate::Error;

impl Store {
    /// The `TransactWriteItems` of `POST /api/locks`, and the lock it makes.
    pub fn baseline_lock(&self, req: &NewLock, terms: &Terms) -> Result<(Lock, Vec<TransactWriteItem>), Error> {
        self.lock_writes(req, terms)
    }

    /// The `UpdateItem` of `POST /api/bookings/confirm`, as sent (asking for the item back).
    pub fn baseline_confirm(&self, hold: &HoldRef, caller: &Caller, window: Window) -> UpdateItemFluentBuilder {
        returning_items(self.confirm_request(hold, caller, window))
    }

    /// The `UpdateItem` of `POST /api/bookings/{id}/pay`, as sent.
    pub fn baseline_pay(
        &self,
        hold: &HoldRef,
        caller: &Caller,
        reference: &PaymentReference,
        now: Timestamp,
    ) -> UpdateItemFluentBuilder {
        returning_items(self.pay_request(hold, caller, reference, now))
    }

    /// The `TransactWriteItems` the lock-expiry job sends for one lock.
    pub fn baseline_expire_lock(
        &self,
        stale: &StaleHold,
        now: Timestamp,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        self.expire_lock_writes(stale, now)
    }
}

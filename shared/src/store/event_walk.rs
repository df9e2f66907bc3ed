//! Recovery's walk over every event, in the order that matters: the upcoming events first,
//! soonest first (they still sell seats, so drift there costs sales), then the past ones, most
//! recent first. Both are ranges of EventListIndex, read a page at a time; `GET /api/events`
//! reads the same index its own way (`events.rs`) and is not changed by this.
//!
//! A run that stops at its deadline saves where it stopped in one small item, the bookmark
//! (`PK = RECOVERY`, `SK = BOOKMARK`), and the next run starts there instead of at the top; a run
//! that finishes the walk deletes it. The bookmark is written with plain puts and deletes, no
//! condition: it is a place to resume, not state any rule depends on. Two overlapping runs may
//! overwrite each other's; the worst that does is an event checked twice or one run later, and
//! every check is safe to repeat.
use serde::{Deserialize, Serialize};

use super::expiry::Unreadable;
use super::items::{key, s, to_item, Item};
use super::keys;
use super::{Store, StoreError};
use crate::domain::ids::EventId;
use crate::time::Timestamp;

const BOOKMARK_PK: &str = "RECOVERY";
const BOOKMARK_SK: &str = "BOOKMARK";

/// Which part of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    /// `eventDate >= now`, soonest first.
    Upcoming,
    /// `eventDate < now`, most recent first.
    Past,
}

/// Where the next run resumes: in `phase`, after the event whose EventListIndex sort key is
/// `after` (every event before it in walk order was checked), or from the phase's start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bookmark {
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BookmarkItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(flatten)]
    bookmark: Bookmark,
    saved_at: Timestamp,
}

/// One event of the walk: its id and its EventListIndex sort key (what a bookmark records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedEvent {
    pub id: EventId,
    pub sort: String,
}

impl Store {
    /// One page of the walk's `phase`, in walk order, resuming after `after` (a sort key) if
    /// given. `now` divides the phases, compared as stored (`<eventDate>#<eventId>` against the
    /// fixed-width time text). An item of the event list whose key is not an event's is logged
    /// and skipped.
    pub async fn event_walk_page(
        &self,
        phase: Phase,
        after: Option<&str>,
        now: Timestamp,
        start: Option<Item>,
        limit: i32,
    ) -> Result<(Vec<WalkedEvent>, Option<Item>), StoreError> {
        let now = now.text();
        // Upcoming: from now on, or past the bookmark if that is later. Past: before now, or
        // before the bookmark (which was before the now of the run that saved it).
        let (condition, bound) = match (phase, after) {
            (Phase::Upcoming, Some(after)) if after >= now.as_str() => ("listSort > :bound", after.to_string()),
            (Phase::Upcoming, _) => ("listSort >= :bound", now),
            (Phase::Past, Some(after)) if after < now.as_str() => ("listSort < :bound", after.to_string()),
            (Phase::Past, _) => ("listSort < :bound", now),
        };
        let page = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(keys::EVENT_LIST_INDEX)
            .key_condition_expression(format!("listKey = :k AND {condition}"))
            .expression_attribute_values(":k", s(keys::EVENT_LIST_KEY))
            .expression_attribute_values(":bound", s(bound))
            .scan_index_forward(phase == Phase::Upcoming)
            .set_exclusive_start_key(start)
            .limit(limit)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let text = |item: &Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let mut events = Vec::new();
        for item in page.items() {
            let id = text(item, "PK").as_deref().and_then(keys::event_id_of);
            match (id, text(item, "listSort")) {
                (Some(id), Some(sort)) => events.push(WalkedEvent { id, sort }),
                _ => {
                    let bad = Unreadable::of(item, "not an event's key");
                    tracing::error!(key = %bad.key, "skipped an item of the event list that is not an event");
                }
            }
        }
        Ok((events, page.last_evaluated_key))
    }

    /// The bookmark a stopped run left, if any. One that cannot be read is logged and ignored:
    /// the walk then starts at the top, which costs time, never correctness.
    pub async fn recovery_bookmark(&self) -> Result<Option<Bookmark>, StoreError> {
        match self.read::<BookmarkItem>(key(BOOKMARK_PK.into(), BOOKMARK_SK)).await {
            Ok(saved) => Ok(saved.map(|s| s.bookmark)),
            Err(StoreError::Item(e)) => {
                tracing::error!(error = %crate::error::chain(&e), "recovery bookmark unreadable; starting from the top");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Saves where the next run starts (a plain put: see the module's doc).
    pub async fn save_recovery_bookmark(&self, bookmark: &Bookmark, now: Timestamp) -> Result<(), StoreError> {
        let item = BookmarkItem {
            pk: BOOKMARK_PK.into(),
            sk: BOOKMARK_SK.into(),
            entity: "RECOVERY_BOOKMARK".into(),
            bookmark: bookmark.clone(),
            saved_at: now,
        };
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }

    /// The walk was finished: the next run starts from the top.
    pub async fn clear_recovery_bookmark(&self) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(BOOKMARK_PK.into(), BOOKMARK_SK)))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::items::{from_item, ts};

    #[test]
    fn a_bookmark_is_stored_as_plain_attributes() {
        let item = BookmarkItem {
            pk: BOOKMARK_PK.into(),
            sk: BOOKMARK_SK.into(),
            entity: "RECOVERY_BOOKMARK".into(),
            bookmark: Bookmark { phase: Phase::Past, after: Some("2026-01-29T11:00:00.000Z#x".into()) },
            saved_at: Timestamp::parse("2026-01-29T12:00:00Z").unwrap(),
        };
        let stored = to_item(&item).unwrap();
        assert_eq!(stored["phase"], s("PAST"));
        assert_eq!(stored["after"], s("2026-01-29T11:00:00.000Z#x"));
        assert_eq!(stored["savedAt"], ts(item.saved_at));
        let back: BookmarkItem = from_item(stored).unwrap();
        assert_eq!(back.bookmark, item.bookmark);
    }
}

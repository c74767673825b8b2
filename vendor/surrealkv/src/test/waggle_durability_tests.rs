//! Waggle patch: one deterministic test per durability bug fixed in this copy (see
//! `vendor/README.md` in Waggle). Each fails on upstream 0.21.4's code and passes here; each
//! also fails when only its own fix is reverted.
//!
//! A crash is simulated the way a SIGKILL leaves the store: writes are acknowledged only once
//! fsynced (`Durability::Immediate`), background work is stopped between two operations (no
//! flush or compaction is half done), and the directory is copied as it is on disk; the tree
//! is never closed (a close would flush what the crash is meant to leave in the log). The copy
//! is then opened as the restarted process would open it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tempdir::TempDir;
use test_log::test;

use crate::{Durability, Options, Tree};

/// Small memtables: a few dozen of the records below fill one.
const SMALL_MEMTABLE: usize = 64 * 1024;
/// A memtable no test fills.
const LARGE_MEMTABLE: usize = 16 * 1024 * 1024;

fn options(path: &Path, max_memtable_size: usize) -> Arc<Options> {
	Arc::new(Options {
		path: path.to_path_buf(),
		max_memtable_size,
		// Crash semantics: dropping a tree must not flush anything.
		flush_on_close: false,
		// No level compaction: the tests look at flushes only.
		level0_max_files: 12,
		..Default::default()
	})
}

fn key(i: usize) -> Vec<u8> {
	format!("key_{i:05}").into_bytes()
}

fn value(i: usize) -> Vec<u8> {
	format!("value_{i:05}_").into_bytes().repeat(100) // ~1.2 KiB
}

/// Commits one record in its own transaction, acknowledged once the log is fsynced.
async fn put(tree: &Tree, i: usize) {
	let mut txn = tree.begin().unwrap();
	txn.set_durability(Durability::Immediate);
	txn.set(&key(i), &value(i)).unwrap();
	txn.commit().await.unwrap();
}

fn active_segment(tree: &Tree) -> u64 {
	tree.core.inner.wal.read().get_active_log_number()
}

fn table_count(tree: &Tree) -> usize {
	let manifest = tree.core.inner.level_manifest.read().unwrap();
	manifest.levels.get_levels().iter().map(|level| level.tables.len()).sum()
}

/// Waits until the background task has flushed every immutable memtable.
async fn wait_for_flushes(tree: &Tree) {
	let start = Instant::now();
	while !tree.core.inner.immutable_memtables.read().unwrap().is_empty() {
		assert!(start.elapsed() < Duration::from_secs(30), "the background flush did not finish");
		tokio::time::sleep(Duration::from_millis(5)).await;
	}
}

fn copy_dir(from: &Path, to: &Path) {
	std::fs::create_dir_all(to).unwrap();
	for entry in std::fs::read_dir(from).unwrap() {
		let entry = entry.unwrap();
		let target = to.join(entry.file_name());
		if entry.file_type().unwrap().is_dir() {
			copy_dir(&entry.path(), &target);
		} else {
			std::fs::copy(entry.path(), &target).unwrap();
		}
	}
}

/// The store as a SIGKILL at this point leaves it, copied to `to`: background work stopped
/// first, so no flush or compaction is half written in the copy.
async fn crash_image(tree: &Tree, to: &Path) {
	stop_background_work(tree).await;
	copy_dir(&tree.core.inner.opts.path, to);
}

/// Stops the background flush and compaction tasks (waiting for any one running).
async fn stop_background_work(tree: &Tree) {
	let tasks = tree.core.task_manager.lock().unwrap().take();
	if let Some(tasks) = tasks {
		tasks.stop().await;
	}
}

fn assert_all_present(tree: &Tree, keys: std::ops::Range<usize>, context: &str) {
	let txn = tree.begin().unwrap();
	let missing: Vec<usize> = keys.filter(|i| txn.get(&key(*i)).unwrap() != Some(value(*i))).collect();
	assert!(missing.is_empty(), "{context}: {} acknowledged records lost: {missing:?}", missing.len());
}

/// The newest WAL segment file of a store.
fn newest_segment(store: &Path) -> PathBuf {
	let mut segments: Vec<PathBuf> = std::fs::read_dir(store.join("wal"))
		.unwrap()
		.map(|e| e.unwrap().path())
		.filter(|p| p.extension().is_some_and(|e| e == "wal"))
		.collect();
	segments.sort();
	segments.pop().expect("the store has a WAL segment")
}

/// Leaves `segment` as a process killed in the middle of a write leaves it: the log writer
/// buffers 32 KiB blocks, so a record larger than a block reaches the file a block at a time;
/// a kill after the first block leaves a `First` fragment (checksum and all) filling the rest
/// of the block, and no `Last` fragment.
fn tear_tail(segment: &Path) {
	use crate::wal::{RecordType, BLOCK_SIZE, HEADER_SIZE};
	let mut bytes = std::fs::read(segment).unwrap();
	if BLOCK_SIZE - bytes.len() % BLOCK_SIZE <= HEADER_SIZE {
		bytes.resize(bytes.len() + BLOCK_SIZE - bytes.len() % BLOCK_SIZE, 0); // the writer pads
	}
	let payload = vec![0x5a_u8; BLOCK_SIZE - bytes.len() % BLOCK_SIZE - HEADER_SIZE];
	let mut crc = crc32fast::Hasher::new();
	crc.update(&[RecordType::First as u8]);
	crc.update(&payload);
	bytes.extend_from_slice(&crc.finalize().to_be_bytes());
	bytes.extend_from_slice(&(payload.len() as u16).to_be_bytes());
	bytes.push(RecordType::First as u8);
	bytes.extend_from_slice(&payload);
	std::fs::write(segment, bytes).unwrap();
}

/// Fix 1 (`Wal::open_with_min_log_number`): a reopened log starts a new segment instead of
/// appending behind a torn record.
///
/// Upstream appended the writes acknowledged after the restart to the segment that ends in the
/// torn record; the next recovery stopped at the torn record, reported corruption, truncated
/// the segment there and lost them all.
#[test(tokio::test)]
async fn writes_after_a_torn_log_tail_survive_the_next_crash() {
	let dir = TempDir::new("test").unwrap();
	let (first, second, third) = (dir.path().join("1"), dir.path().join("2"), dir.path().join("3"));

	let tree = Tree::new(options(&first, LARGE_MEMTABLE)).unwrap();
	for i in 0..20 {
		put(&tree, i).await;
	}
	crash_image(&tree, &second).await;
	// The kill landed in the middle of a write.
	tear_tail(&newest_segment(&second));

	// The restart reads the torn record as the end of the log.
	let tree = Tree::new(options(&second, LARGE_MEMTABLE)).unwrap();
	assert_all_present(&tree, 0..20, "after the first restart");
	for i in 20..40 {
		put(&tree, i).await;
	}
	crash_image(&tree, &third).await;

	let tree = Tree::new(options(&third, LARGE_MEMTABLE)).unwrap();
	assert_all_present(&tree, 0..40, "after the second restart");
}

/// Fix 2 (`CoreInner::first_wal_needed`): the batch that fills a memtable is written to WAL
/// segment N, then applied to the memtable that replaced N's at the rotation (N+1). Once N's
/// memtable is flushed, upstream recorded N+1 as the first segment still needed (and deleted
/// N): the batch existed only in memory until memtable N+1 was flushed in turn, and a crash
/// before that lost it.
#[test(tokio::test)]
async fn the_batch_that_filled_a_memtable_survives_a_crash_after_the_flush() {
	let dir = TempDir::new("test").unwrap();
	let (store, image) = (dir.path().join("store"), dir.path().join("image"));

	let tree = Tree::new(options(&store, SMALL_MEMTABLE)).unwrap();
	let first_segment = active_segment(&tree);
	let mut written = 0;
	while active_segment(&tree) == first_segment {
		put(&tree, written).await;
		written += 1;
		assert!(written < 10_000, "the memtable never rotated");
	}
	// The last record filled the memtable of `first_segment`: it is in that segment's log and
	// in the new active memtable, whose own segment is the next one.
	wait_for_flushes(&tree).await;
	assert_eq!(table_count(&tree), 1, "the filled memtable was flushed");
	// Let the flush's log clean-up run (upstream deletes `first_segment` here).
	tokio::time::sleep(Duration::from_millis(50)).await;
	crash_image(&tree, &image).await;

	let tree = Tree::new(options(&image, SMALL_MEMTABLE)).unwrap();
	assert_all_present(&tree, 0..written, "after the crash");
}

/// Fix 3 (`Core::replay_wal_with_repair`): when recovery replays a segment that fills more than
/// one memtable, the memtables before the last are flushed, each recording the first segment
/// still needed. Upstream recorded the segment after the replayed one, although the rest of the
/// replayed segment was only in the last (unflushed) memtable: a second crash before that
/// memtable was flushed lost it.
#[test(tokio::test)]
async fn a_segment_split_across_memtables_at_recovery_survives_a_second_crash() {
	let dir = TempDir::new("test").unwrap();
	let (first, second, third) = (dir.path().join("1"), dir.path().join("2"), dir.path().join("3"));

	// One segment holding several small memtables' worth of records.
	let tree = Tree::new(options(&first, LARGE_MEMTABLE)).unwrap();
	let segment = active_segment(&tree);
	let written = 300;
	for i in 0..written {
		put(&tree, i).await;
	}
	assert_eq!(active_segment(&tree), segment, "all records are in one segment");
	crash_image(&tree, &second).await;

	// The restart, with small memtables, splits that segment across several memtables and
	// flushes all but the last.
	let tree = Tree::new(options(&second, SMALL_MEMTABLE)).unwrap();
	assert!(table_count(&tree) >= 2, "recovery flushed the segment's first memtables");
	assert_all_present(&tree, 0..written, "after the first restart");
	crash_image(&tree, &third).await;

	let tree = Tree::new(options(&third, SMALL_MEMTABLE)).unwrap();
	assert_all_present(&tree, 0..written, "after the second restart");
}

/// Fix 4 (`CoreInner::flush_lock`): two flushes of the immutable queue at once, as the
/// background flush and a forced one (`Tree::create_checkpoint`, which flushes every immutable
/// memtable on the caller's thread) do when they overlap.
///
/// Upstream let both read the same oldest immutable memtable and flush it under the same table
/// id: two writers of one SSTable file, each reading it back while the other rewrote it, and
/// the table added to the manifest twice. Here the second flusher waits and finds the queue
/// empty. The overlap is certain, not a matter of timing: both flushers start together and a
/// flush of this memtable takes far longer than the reading of the queue.
#[test(tokio::test)]
async fn two_flushes_at_once_write_the_memtable_once() {
	let dir = TempDir::new("test").unwrap();
	let (store, image) = (dir.path().join("store"), dir.path().join("image"));

	let tree = Tree::new(options(&store, LARGE_MEMTABLE)).unwrap();
	// Only the two flushers below flush.
	stop_background_work(&tree).await;
	let written = 2000; // ~2.5 MiB
	for i in 0..written {
		put(&tree, i).await;
	}
	tree.core.inner.rotate_memtable().unwrap();
	assert_eq!(tree.core.inner.immutable_count(), 1, "one memtable waits for its flush");

	let start = Arc::new(std::sync::Barrier::new(2));
	let flushers: Vec<_> = (0..2)
		.map(|_| {
			let (inner, start) = (Arc::clone(&tree.core.inner), Arc::clone(&start));
			// The blocking pool: a flush schedules its log clean-up on the runtime.
			tokio::task::spawn_blocking(move || {
				start.wait();
				inner.flush_all_immutables_sync()
			})
		})
		.collect();
	for flusher in flushers {
		flusher.await.unwrap().expect("a flush failed");
	}
	assert_eq!(table_count(&tree), 1, "the memtable was written to one table, once");
	assert_all_present(&tree, 0..written, "after the flushes");

	crash_image(&tree, &image).await;
	let tree = Tree::new(options(&image, LARGE_MEMTABLE)).unwrap();
	assert_eq!(table_count(&tree), 1, "the manifest lists the table once");
	assert_all_present(&tree, 0..written, "after a restart");
}

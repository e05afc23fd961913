// Package store keeps face embeddings of large image sets on disk: one
// store per folder, written by one task (a shard of an array job, or the
// whole set), resumable after a kill, merged from shards into a store
// byte-identical to what one process would have written, and read through
// a memory map.
//
// # Files
//
// A store folder holds:
//
//	.maskinv-store      marker: the folder is a store's (see Create)
//	embeddings.npy      float32 little-endian, shape (count, dim), NumPy .npy 1.0,
//	                    data 64-byte aligned: numpy.load reads it, Open maps it
//	index.jsonl         one JSON object per line, line i describing row i
//	meta.json           what made the store, and sizes and hashes of the two above
//
// Records are sorted by path (byte order), so the files are a function of
// the records alone. Line i of index.jsonl describes row i of
// embeddings.npy:
//
//	{"path":"Alice/Alice_0001.jpg","status":"ok","box":[x,y,w,h],
//	 "landmarks5":[[x,y],…5],"face":"1 face"}
//	{"path":"Bob/Bob_0002.jpg","status":"error","error":"…: no face"}
//
// path is the image's slash-separated path under the input folder (the key
// that also chooses its mask and its shard); status is "ok" or "error"; an
// error record's row is all zeros. box and landmarks5 are in the photo's
// pixels (absent for aligned crops); face says which face was chosen.
//
// meta.json:
//
//	{"format":"maskinv embedding store","version":1,
//	 "model_sha256":"…","pipeline":"…","settings":{"aligned":"false",…},
//	 "dim":512,"shard":"2/4","count":N,"failed":F,
//	 "embeddings_sha256":"…","index_sha256":"…"}
//
// model_sha256, pipeline, settings and dim are the store's Params: stores
// merge only when they agree. shard is "I/N" (numbered from 1; "1/1" for a
// whole set, also after a merge).
//
// # Writing and resuming
//
// Create opens a Writer; Add journals each image as it is done to
// .maskinv-store-journal (framed, checksummed, fsynced in batches), so a
// task killed at any point loses only the images in flight, and a rerun
// (Slurm's requeue) skips what the journal holds. Finish sorts, writes the
// three files atomically (temporary file, fsync, rename; meta.json last,
// and removed first, so a meta.json always describes the files beside it)
// and removes the journal.
package store

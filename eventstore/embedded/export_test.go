package embedded

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// ScanRaw walks the whole events bucket in chunks of ReadChunk records, the
// same read transactions as ReadAll, touching each value without decoding
// it. It returns the number of records and their total size. Benchmarks use
// it as the floor under ReadAll.
func (s *Store) ScanRaw(ctx context.Context) (n, size int, err error) {
	var last []byte
	for {
		if err := ctx.Err(); err != nil {
			return n, size, err
		}
		got := 0
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketEvents).Cursor()
			var k, v []byte
			if last == nil {
				k, v = c.First()
			} else {
				k, v = c.Seek(last)
				if k != nil {
					k, v = c.Next()
				}
			}
			for ; k != nil && got < s.opts.ReadChunk; k, v = c.Next() {
				got++
				size += len(v) + int(v[len(v)-1])
				last = append(last[:0], k...)
			}
			return nil
		})
		if err != nil {
			return n, size, err
		}
		n += got
		if got < s.opts.ReadChunk {
			return n, size, nil
		}
	}
}

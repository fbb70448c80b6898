package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// FerretDB 1.24 looks a document up by _id with the SQL expression
// `_ferretdb_sjson->'$._id' = ?`, while the unique index it creates for _id is on
// `_ferretdb_sjson->"_id"`. SQLite uses an expression index only for the same
// expression, so every _id lookup scans the whole table. keepIDIndexes adds, for
// each collection table, an index on the expression the lookups use.
func keepIDIndexes(ctx context.Context, dir string, logger *slog.Logger) {
	indexed := map[string]bool{}
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()

	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := indexIDs(ctx, file, indexed); err != nil && ctx.Err() == nil {
				logger.Warn("could not index _id lookups", "file", file, "error", err)
			}
		}

		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func indexIDs(ctx context.Context, file string, indexed map[string]bool) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()

	rows, err := db.QueryContext(ctx, "SELECT table_name FROM _ferretdb_collections")
	if err != nil {
		return nil // a database without collections yet
	}

	var tables []string
	for rows.Next() {
		var table string
		if err = rows.Scan(&table); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, table)
	}
	rows.Close()

	for _, table := range tables {
		key := file + "/" + table
		if indexed[key] {
			continue
		}
		query := fmt.Sprintf(
			`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+"_curex_id", table,
		)
		if _, err = db.ExecContext(ctx, query); err != nil {
			return err
		}
		indexed[key] = true
	}

	return nil
}

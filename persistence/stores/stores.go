// Package stores opens the persistence.Store that a node's configuration
// asks for. It lives apart from package persistence, which both stores
// import for their interface and errors.
package stores

import (
	"context"
	"log/slog"

	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/postgres"
	"github.com/signalscrape/signalscrape/persistence/sqlite"
)

// Open opens the PostgreSQL store at databaseURL, or, when databaseURL is
// empty, the embedded SQLite store in dataDir. Either way the migrations are
// applied. The URL is never logged, since it may hold a password.
func Open(ctx context.Context, databaseURL, dataDir string, logger *slog.Logger) (persistence.Store, error) {
	if databaseURL == "" {
		s, err := sqlite.Open(ctx, dataDir)
		if err != nil {
			return nil, err
		}
		logger.Info("opened embedded store", "data_dir", dataDir)
		return s, nil
	}
	logger.Info("connecting to PostgreSQL store")
	s, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	logger.Info("opened PostgreSQL store")
	return s, nil
}

package events_test

import (
	"testing"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/storetest"
)

// TestMemoryStoreConformance runs the suite every events.Store passes on
// the in-memory default.
func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) events.Store { return events.NewMemoryStore() })
}

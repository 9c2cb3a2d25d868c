package async_test

import (
	"context"
	"strings"
	"testing"

	"github.com/coworks-go/cws/async"
)

// CWS_IDEMPOTENCY_TABLE without events/dynamostore linked: the doors refuse
// to open, saying what to import, rather than forget silently.
func TestIdempotencyTableNeedsTheStore(t *testing.T) {
	t.Setenv(async.EnvIdempotencyTable, "orders-idempotency")
	doors := async.Doors()
	app := newApp(t, newShop(), doors)
	const want = `import _ "github.com/coworks-go/cws/events/dynamostore"`
	if _, err := doors.Local(context.Background(), app); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "orders-idempotency") {
		t.Errorf("Local: %v", err)
	}
	if _, err := doors.Lambda(context.Background(), app); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Lambda: %v", err)
	}
}

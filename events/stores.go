package events

import (
	"fmt"
	"slices"
	"sync"
)

// A StoreOpener opens a durable idempotency store at a location (for
// DynamoDB, a table's name or ARN).
type StoreOpener func(location string) (Store, error)

var (
	storesMu sync.Mutex
	stores   = map[string]StoreOpener{}
)

// RegisterStore makes a durable store available by its kind ("dynamodb")
// to OpenStore. Its package calls it from init, the way database/sql
// drivers register, so that only a service that imports the package (often
// for this effect alone: import _ "github.com/coworks-go/cws/events/dynamostore")
// links it and its client.
func RegisterStore(kind string, open StoreOpener) {
	storesMu.Lock()
	defer storesMu.Unlock()
	if _, dup := stores[kind]; dup {
		panic("events: RegisterStore called twice for " + kind)
	}
	stores[kind] = open
}

// OpenStore opens the store of kind at location. Without a registered
// kind, the error says which package to import.
func OpenStore(kind, location string) (Store, error) {
	storesMu.Lock()
	open := stores[kind]
	storesMu.Unlock()
	if open == nil {
		return nil, fmt.Errorf("no %s idempotency store is linked into this binary: import _ \"github.com/coworks-go/cws/events/%sstore\" in the service's main package", kind, kind)
	}
	return open(location)
}

// StoreKinds lists the kinds of the registered stores, sorted.
func StoreKinds() []string {
	storesMu.Lock()
	defer storesMu.Unlock()
	kinds := make([]string, 0, len(stores))
	for k := range stores {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

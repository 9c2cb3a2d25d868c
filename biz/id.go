package biz

import "github.com/google/uuid"

// newID returns a fresh event id.
func newID() string { return uuid.NewString() }

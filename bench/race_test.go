//go:build race

package bench

// raceEnabled says the race detector is on: the load test's figures mean
// nothing then, and it runs short.
const raceEnabled = true

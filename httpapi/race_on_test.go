//go:build race

package httpapi_test

// raceDetector says the tests run under -race, where the embedded SQLite
// (C translated to Go, every memory access instrumented) inserts 100,000
// claims in minutes rather than seconds.
const raceDetector = true

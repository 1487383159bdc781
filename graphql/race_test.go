//go:build race

package graphql_test

// costSlowdown scales FuzzDocumentCost's time bound: the race detector
// makes everything several times slower.
const costSlowdown = 10

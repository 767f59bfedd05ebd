package main

// peerPage and peerClaim are claimsPage and oneClaim in the schema
// PostGraphile 5 (amber preset) derives from the tables.
const peerPage = `query ClaimsPage { allClaims(first: 50) { nodes { id } } }`

const peerClaim = `query OneClaim($id: UUID!) { claimById(id: $id) { id } }`

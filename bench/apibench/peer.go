package main

// peerPage and peerClaim ask PostGraphile 5 (amber preset, bench/postgraphile)
// for the same data as claimsPage and oneClaim, in the schema it derives from
// the tables: relations are named after their foreign keys, a table's `id`
// column is `rowId`, and a comment's author and an event's actor are
// columns rather than objects. PostGraphile checks no token and applies no
// access rule: it answers as the database's owner.
const peerPage = `query ClaimsPage {
  allClaims(first: 50, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      status
      createdAt
      customerTenantByCustomerTenantId { displayName tenantDomainsByTenantId { nodes { domain } } }
      productByProductId { name }
      mpnByMpnId { partnerLocationId name }
      commentsByClaimId(first: 5, orderBy: [CREATED_AT_ASC, PRIMARY_KEY_ASC]) { nodes { body authorName createdAt } }
      claimEventsByClaimId(last: 5, orderBy: SEQ_ASC) { nodes { type event fromStatus toStatus actorName createdAt } }
    }
  }
}`

const peerClaim = `query OneClaim($id: UUID!) {
  claimByRowId(rowId: $id) { id status version customerTenantByCustomerTenantId { displayName } productByProductId { name } }
}`

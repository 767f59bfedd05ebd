package main

// The documents the scenarios send. Field names are the schema's
// (schema/*.graphqls); peerPage and peerClaim ask PostGraphile's schema for
// the same data, under the names PostGraphile derives from the tables.

// claimsPage is a reviewer's claims page: the newest 50 claims, each with
// its customer, product, MPN, first five comments and last five events.
const claimsPage = `query ClaimsPage {
  claims(first: 50, orderBy: {field: CREATED_AT, direction: DESC}) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      status
      createdAt
      customerTenant { displayName domains { name } }
      product { name }
      mpn { mpnId name }
      comments(first: 5) { nodes { body author { name } createdAt } }
      history(last: 5) { nodes { type event fromStatus toStatus actor { name } createdAt } }
    }
  }
}`

// oneClaim is a claim's header, as a detail page's first request asks it.
const oneClaim = `query OneClaim($id: ID!) {
  claim(id: $id) { id status version customerTenant { displayName } product { name } }
}`

const createClaim = `mutation CreateClaim($input: CreateClaimInput!) {
  createClaim(input: $input) { claim { id version } userErrors { code field message } }
}`

const attachProof = `mutation AttachProof($id: ID!, $file: Upload!) {
  attachProofOfExecution(input: {claimId: $id, file: $file}) { proofOfExecution { id } claim { version } userErrors { code field message } }
}`

const submitClaim = `mutation SubmitClaim($id: ID!, $v: Int) {
  submitClaim(input: {claimId: $id, expectedVersion: $v}) { claim { status version } userErrors { code field message } }
}`

const startReview = `mutation StartReview($id: ID!, $v: Int) {
  startReview(input: {claimId: $id, expectedVersion: $v}) { claim { status version } userErrors { code field message } }
}`

const approveClaim = `mutation ApproveClaim($id: ID!, $v: Int) {
  approveClaim(input: {claimId: $id, expectedVersion: $v, note: "Workshop proven."}) { claim { status version } userErrors { code field message } }
}`

// Every GraphQL operation the app sends, named, in one place. Each is a
// complete document once gql() has appended the fragments it uses; a Go
// test (web/operations_test.go) validates them all against the schema, so
// a schema change that breaks the app fails CI.

function gql(document, ...fragments) {
  return [document, ...fragments].join('\n');
}

export const Viewer = gql(`query Viewer {
  viewer { userId name email assignedRoles organization { name } customerTenant { displayName } }
}`);

const ClaimRow = `fragment ClaimRow on Claim {
  id name status version solutionArea activity customerDomain submittedAt reviewDueAt overdue updatedAt
  customerTenant { displayName }
  product { name }
  organization { name }
}`;

export const Claims = gql(`query Claims($filter: ClaimFilter, $orderBy: ClaimOrder, $after: String) {
  claims(filter: $filter, orderBy: $orderBy, first: 25, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ...ClaimRow }
  }
}`, ClaimRow);

const ClaimSummary = `fragment ClaimSummary on Claim {
  ...ClaimRow
  customerTenantId subscriptionId
  responseDueAt decidedAt decisionReason decisionCode customerConsent createdAt
  availableActions
  arbitrationCase { id }
}`;

const ClaimDetail = `fragment ClaimDetail on Claim {
  mpn { id mpnId name }
  customerContact { name title email }
  partnerContact { name email }
  notes
  proofOfExecution(first: 50) {
    nodes { id fileName contentType sizeBytes uploadedAt executedOn downloadUrl }
  }
  comments(last: 100) {
    nodes { id kind body createdAt author { name kind } }
  }
  history(last: 100) {
    nodes { id type workflowEvent fromStatus toStatus reason createdAt actor { name kind } }
  }
}`;

// A customer admin sees a claim without its @claimDetail fields.
export const TenantClaim = gql(`query TenantClaim($id: ID!) {
  claim(id: $id) { ...ClaimSummary }
}`, ClaimSummary, ClaimRow);

export const Claim = gql(`query Claim($id: ID!) {
  claim(id: $id) { ...ClaimSummary ...ClaimDetail }
}`, ClaimSummary, ClaimDetail, ClaimRow);

export const DraftForEdit = gql(`query DraftForEdit($id: ID!) {
  claim(id: $id) {
    id name status version solutionArea activity customerTenantId customerDomain subscriptionId notes
    product { id }
    mpn { id }
    customerContact { name title email }
    partnerContact { name email }
  }
}`);

export const FormChoices = gql(`query FormChoices($solutionArea: SolutionArea!) {
  products(solutionArea: $solutionArea) { id name kind }
  activities(solutionArea: $solutionArea) { activity description incentiveEligible }
  mpns { id mpnId name location enrolled }
}`);

const Problems = `fragment Problems on UserError { code field message }`;

export const CreateClaim = gql(`mutation CreateClaim($input: CreateClaimInput!) {
  createClaim(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const UpdateClaim = gql(`mutation UpdateClaim($input: UpdateClaimInput!) {
  updateClaim(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const AttachProof = gql(`mutation AttachProof($input: AttachProofOfExecutionInput!) {
  attachProofOfExecution(input: $input) { proofOfExecution { id } userErrors { ...Problems } }
}`, Problems);

export const AddComment = gql(`mutation AddComment($input: AddCommentInput!) {
  addComment(input: $input) { comment { id } userErrors { ...Problems } }
}`, Problems);

export const SubmitClaim = gql(`mutation SubmitClaim($input: SubmitClaimInput!) {
  submitClaim(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const StartReview = gql(`mutation StartReview($input: StartReviewInput!) {
  startReview(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const RequestInformation = gql(`mutation RequestInformation($input: RequestInformationInput!) {
  requestInformation(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const RespondToInformationRequest = gql(`mutation RespondToInformationRequest($input: RespondToInformationRequestInput!) {
  respondToInformationRequest(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const EscalateClaim = gql(`mutation EscalateClaim($input: EscalateClaimInput!) {
  escalateClaim(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const ApproveClaim = gql(`mutation ApproveClaim($input: ApproveClaimInput!) {
  approveClaim(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const RejectClaim = gql(`mutation RejectClaim($input: RejectClaimInput!) {
  rejectClaim(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const WithdrawClaim = gql(`mutation WithdrawClaim($input: WithdrawClaimInput!) {
  withdrawClaim(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

export const CustomerDecline = gql(`mutation CustomerDecline($input: CustomerDeclineInput!) {
  customerDecline(input: $input) { claim { id } userErrors { ...Problems } }
}`, Problems);

// Live: any claim's status (the list), one claim's status and comments
// (its page). Each event only says what changed; pages read what they show
// again, so what is on screen is always what a reload would show.
export const ListStatusChanged = gql(`subscription ListStatusChanged {
  claimStatusChanged { status claim { id version } }
}`);

export const ClaimStatusChanged = gql(`subscription ClaimStatusChanged($claimId: ID!) {
  claimStatusChanged(claimId: $claimId) { status at claim { id version } }
}`);

export const CommentAdded = gql(`subscription CommentAdded($claimId: ID!) {
  commentAdded(claimId: $claimId) { comment { id } }
}`);

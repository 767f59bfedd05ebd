package testkit

// The operations of one claim lifecycle as the apps send them, each asking
// for what the app shows next: the lifecycle benchmarks and statement
// budgets send exactly these.
const (
	LifecycleCreate = `mutation($input: CreateClaimInput!) { createClaim(input: $input) {
	  claim { id status version } userErrors { code field message } } }`
	LifecycleAttach = `mutation($claimId: ID!, $file: Upload!) { attachProofOfExecution(input: {claimId: $claimId, file: $file}) {
	  proofOfExecution { id sha256 } claim { id version } userErrors { code field message } } }`
	LifecycleSubmit = `mutation($input: SubmitClaimInput!) { submitClaim(input: $input) {
	  claim { id status version reviewDueAt } userErrors { code field message } } }`
	LifecycleStartReview = `mutation($input: StartReviewInput!) { startReview(input: $input) {
	  claim { id status version } userErrors { code field message } } }`
	LifecycleApprove = `mutation($input: ApproveClaimInput!) { approveClaim(input: $input) {
	  claim { id status version association { id active } } userErrors { code field message } } }`
)

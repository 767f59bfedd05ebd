package graph

// DocumentPath is where documents are downloaded: DocumentPath + global ID.
const DocumentPath = "/documents/"

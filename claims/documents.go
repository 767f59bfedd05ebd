package claims

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/storage"
	"cpor/textrule"
)

// DocumentLimits bound proof-of-execution uploads.
type DocumentLimits struct {
	MaxBytes     int64
	MaxPerClaim  int
	ContentTypes []string
	// ProofMaxAgeMonths is how many months before submission the newest
	// proof's work may have been done (ProofRecency).
	ProofMaxAgeMonths int
}

// DefaultDocumentLimits: 10 MiB per file, 50 files per claim, and the kinds
// of file partners send as proof: PDF, Office documents, images and mail.
var DefaultDocumentLimits = DocumentLimits{
	MaxBytes:          10 << 20,
	MaxPerClaim:       50,
	ProofMaxAgeMonths: 12,
	ContentTypes: []string{
		"application/pdf",
		"application/msword",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.ms-excel",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.ms-powerpoint",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation",
		"application/vnd.ms-outlook",
		"message/rfc822",
		"image/png",
		"image/jpeg",
		"image/gif",
		"image/webp",
		"text/plain",
	},
}

// Upload is one file as it arrives.
type Upload struct {
	FileName string
	Content  io.Reader
	// ExecutedOn is the day the work the document proves was done; nil
	// means the day of the upload (UTC).
	ExecutedOn *models.Date
}

// Attach stores a proof-of-execution document on a claim of the caller's
// organisation. The content type is detected from the bytes (the client's
// claim is not trusted) and must be on the allow-list; the file must not be
// empty or over the size limit. Proof may be added until a claim ends
// without approval, including after approval, to show ongoing work.
func (s *Service) Attach(ctx context.Context, claimID uuid.UUID, up Upload) (*Attached, error) {
	p, err := s.ReadProof(ctx, up)
	if err != nil {
		return nil, err
	}
	var claim *models.Claim
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		locked, err := LoadForChange(tx.DB, p.by, claimID, Change{CountDocuments: true})
		if err != nil {
			return err
		}
		claim = &locked.Claim
		ev, err := s.StoreProof(tx, claim, locked.Documents, p)
		if err != nil {
			return err
		}
		return s.log.Append(tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return &Attached{Document: p.doc, Claim: claim}, nil
}

// Proof is an upload read and checked outside any transaction, so that a
// slow client holds no lock, ready to be stored with a claim's change
// (attachProofOfExecution, or an answer to an information request).
type Proof struct {
	by      *auth.Identity
	doc     *models.Document
	content []byte
}

// ReadProof reads and checks an upload by a partner admin.
func (s *Service) ReadProof(ctx context.Context, up Upload) (*Proof, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := id.RequirePartnerAdmin(); err != nil {
		return nil, err
	}
	now := storage.Now()
	executedOn, err := executionDay(up.ExecutedOn, now)
	if err != nil {
		return nil, err
	}
	content, contentType, err := s.readUpload(up)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(content)
	return &Proof{by: id, content: content, doc: &models.Document{
		ID:          uuid.New(),
		FileName:    textrule.FileName(up.FileName),
		ContentType: contentType,
		SizeBytes:   int64(len(content)),
		SHA256:      hex.EncodeToString(sum[:]),
		UploadedBy:  id.UserID,
		UploadedAt:  now,
		ExecutedOn:  executedOn,
	}}, nil
}

// StoreProof stores the proof on c, which the caller has locked in tx with
// its document count, and returns the DOCUMENT_ATTACHED event for the
// caller to append with its others.
func (s *Service) StoreProof(tx *storage.Tx, c *models.Claim, documents int64, p *Proof) (*models.ClaimEvent, error) {
	if c.Status.IsFinal() && c.Status != models.Approved {
		return nil, apperr.New(apperr.InvalidTransition, "claimId",
			"This claim is %s; reclaim it to start a new claim with new proof.", c.Status)
	}
	if int(documents) >= s.limits.MaxPerClaim {
		return nil, apperr.Invalidf("file", "A claim holds at most %d documents; combine files into one PDF.", s.limits.MaxPerClaim)
	}
	p.doc.ClaimID = c.ID
	if err := tx.Create(p.doc).Error; err != nil {
		return nil, fmt.Errorf("save document: %w", err)
	}
	if err := tx.Create(&models.DocumentContent{DocumentID: p.doc.ID, Content: p.content}).Error; err != nil {
		return nil, fmt.Errorf("save document content: %w", err)
	}
	ev := EventFor(c, p.by, models.EventDocumentAttached)
	ev.DocumentID = &p.doc.ID
	return ev, nil
}

// Document is the stored document of the proof, once stored.
func (p *Proof) Document() *models.Document { return p.doc }

// Attached is an attached document with its claim as the attaching
// transaction read it (attaching does not change the claim), so that the
// caller need not read the claim again.
type Attached struct {
	*models.Document
	Claim *models.Claim
}

func (s *Service) readUpload(up Upload) ([]byte, string, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(up.Content, s.limits.MaxBytes+1))
	if err != nil {
		return nil, "", apperr.Invalidf("file", "The upload could not be read; send it again.")
	}
	if n == 0 {
		return nil, "", apperr.Invalidf("file", "The file is empty; attach the document itself.")
	}
	if n > s.limits.MaxBytes {
		return nil, "", apperr.Invalidf("file", "The file is larger than %d MiB; attach a smaller file or split it.", s.limits.MaxBytes>>20)
	}
	content := buf.Bytes()
	contentType := detectContentType(content)
	if !slices.Contains(s.limits.ContentTypes, contentType) {
		return nil, "", apperr.Invalidf("file",
			"Files of type %s cannot be attached; attach a PDF, an Office document, an image or an e-mail.", contentType)
	}
	return content, contentType, nil
}

// detectContentType names the file's type from its bytes, without
// parameters such as charset.
func detectContentType(content []byte) string {
	for m := mimetype.Detect(content); m != nil; m = m.Parent() {
		base, _, _ := strings.Cut(m.String(), ";")
		if base != "application/octet-stream" {
			return base
		}
	}
	return "application/octet-stream"
}

// OpenDocument returns a document and its bytes for the caller: the claim's
// organisation's admins and reviewers may download it.
func (s *Service) OpenDocument(ctx context.Context, docID uuid.UUID) (*models.Document, []byte, error) {
	doc, err := s.Document(ctx, docID)
	if err != nil {
		return nil, nil, err
	}
	var content models.DocumentContent
	if err := s.db.WithContext(ctx).Where("document_id = ?", docID).Take(&content).Error; err != nil {
		return nil, nil, fmt.Errorf("load document content: %w", err)
	}
	return doc, content.Content, nil
}

// Document returns a document's metadata for a caller who may read its claim.
func (s *Service) Document(ctx context.Context, docID uuid.UUID) (*models.Document, error) {
	var doc models.Document
	if err := s.childOfReadableClaim(ctx, &doc, "id = ?", docID, func() uuid.UUID { return doc.ClaimID }); err != nil {
		return nil, err
	}
	return &doc, nil
}

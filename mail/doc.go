// Package mail is the e-mail channel of the notification outbox: a
// [Sender] that renders a delivery (one notification, or a daily digest of
// several) as a multipart/alternative message, plain text and HTML, and
// hands it to an SMTP relay.
//
// Messages are built and sent with github.com/wneessen/go-mail: it is
// maintained, builds multipart messages with correct MIME encoding, and
// speaks STARTTLS, implicit TLS and SMTP AUTH, which the standard library's
// net/smtp (frozen) leaves to its callers. The tests run a real SMTP server
// in-process, github.com/emersion/go-smtp, so that what they check is the
// protocol exchange and the message a relay receives, not a mock's idea of
// it.
//
// Each delivery's ID is its e-mail's Message-ID, so a resend of the same
// delivery is recognisable as the same message. Send sorts failures into
// permanent (the relay refuses this recipient or this message with a 5xx
// reply) and temporary (everything else: 4xx replies, connection failures,
// timeouts, and refusals of our own session such as a failed AUTH, which a
// corrected configuration cures).
//
// With no SMTP host configured (CPOR_SMTP_HOST unset) the sender logs each
// rendered message instead of sending it, so that development needs no
// relay.
package mail

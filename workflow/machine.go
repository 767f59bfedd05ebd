// Package workflow moves claims, arbitration cases and associations through
// their states (docs/state-machines.md). Each of the three is declared once,
// as a Machine: its states, and its transitions with who may fire them, the
// words that explain them and what they write. looplab/fsm runs the
// declaration: a transition's checks hang on its before_<event> callback,
// what entering a state means on enter_<state>, and the writes every
// transition makes (state, version, the immutable event row) on the generic
// enter_state callback. Every transition of every aggregate runs through one
// transaction skeleton (skeleton.go).
package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/looplab/fsm"

	"cpor/apperr"
)

// Event is a state-machine event.
type Event string

// Role is who fires an event.
type Role string

const (
	RolePartner  Role = "partner"
	RoleReviewer Role = "reviewer"
	RoleCustomer Role = "customer"
	RoleSystem   Role = "system"
)

// State is a state of a machine.
type State string

// Transition is one declared transition of a machine over subjects of type
// T (what a transition in progress knows: the transaction, the caller, the
// locked row). It carries its sources, destination and effect, as in
// Temporal's hsm, so that it can be read and tested on values alone.
type Transition[T any] struct {
	Event Event
	From  []State
	To    State
	By    []Role
	// Verb completes "You cannot … a claim." and Done "… cannot be …";
	// the refusals are built from them.
	Verb, Done string
	// Check runs before the transition (before_<event>): an error refuses it
	// and nothing is written.
	Check func(T) error
	// Effect runs after the transition's own writes (after_<event>): the
	// comments, associations and cases it changes beside the subject.
	Effect func(T) error
	// Refusal, when set, explains the event from a state it does not apply
	// to better than INVALID_TRANSITION can (NOT_WITHDRAWABLE, say); nil
	// means the default.
	Refusal func(subject T, from State) error
}

// Machine is the declaration of one aggregate's states and transitions:
// the single source of what may happen to it.
type Machine[T any] struct {
	// Noun names the subject in messages ("claim").
	Noun    string
	Field   string // the input field refusals point at ("claimId")
	Initial State
	States  []State
	// Label names a state for people (the claim's two waiting states are
	// both ACTION_REQUIRED to them); nil shows states as they are.
	Label func(State) string
	// Enter runs when a subject enters a state (enter_<state>), before the
	// state is written: it sets what the state means (deadlines, decision).
	Enter map[State]func(T, Fired) error
	// Write persists a transition (the generic enter_state callback): the
	// new state with its version and the event row.
	Write       func(T, Fired) error
	Transitions []Transition[T]
}

// Fired is a transition being made.
type Fired struct {
	Event    Event
	From, To State
	By       Role
}

// rows returns the declared transitions of the event: one per destination
// (requestInformation leads from review and from arbitration to a different
// waiting state each). They share who may fire them and their words.
func (m *Machine[T]) rows(e Event) []*Transition[T] {
	var out []*Transition[T]
	for i := range m.Transitions {
		if m.Transitions[i].Event == e {
			out = append(out, &m.Transitions[i])
		}
	}
	return out
}

// events is the declaration as looplab/fsm reads it.
func (m *Machine[T]) events() fsm.Events {
	out := make(fsm.Events, 0, len(m.Transitions))
	for _, t := range m.Transitions {
		out = append(out, fsm.EventDesc{Name: string(t.Event), Src: names(t.From), Dst: string(t.To)})
	}
	return out
}

func names(ss []State) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// Next returns the state the event leads to from current when fired by
// role, without running any check or write: FORBIDDEN if the role may not
// fire it, the transition's refusal if it does not apply in current.
func (m *Machine[T]) Next(current State, event Event, by Role) (State, error) {
	var none T
	t, err := m.admit(none, current, event, by)
	if err != nil {
		return "", err
	}
	return t.To, nil
}

// admit finds the transition of the event from current for role, or says
// why there is none.
func (m *Machine[T]) admit(subject T, current State, event Event, by Role) (*Transition[T], error) {
	rows := m.rows(event)
	if len(rows) == 0 {
		return nil, apperr.Invalidf("event", "Unknown event %q.", event)
	}
	first := rows[0]
	if !slices.Contains(first.By, by) {
		return nil, apperr.Forbiddenf("You cannot %s a %s.", first.Verb, m.Noun)
	}
	var from []State
	for _, t := range rows {
		if slices.Contains(t.From, current) {
			return t, nil
		}
		from = append(from, t.From...)
	}
	if first.Refusal != nil {
		if err := first.Refusal(subject, current); err != nil {
			return nil, err
		}
	}
	return nil, apperr.New(apperr.InvalidTransition, m.Field, "A %s %s cannot be %s; it can be %s when it is %s.",
		m.label(current), m.Noun, first.Done, first.Done, m.join(from))
}

// Allowed lists the events the role may fire from the state, in
// declaration order: the buttons that work.
func (m *Machine[T]) Allowed(current State, by Role) []Event {
	var out []Event
	for _, t := range m.Transitions {
		if slices.Contains(t.By, by) && slices.Contains(t.From, current) && !slices.Contains(out, t.Event) {
			out = append(out, t.Event)
		}
	}
	return out
}

// Fire makes the transition of the event on subject, which is in state
// current, through looplab/fsm: before_<event> admits the role and runs the
// transition's Check; enter_<state> runs the state's Enter; enter_state
// runs Write; after_<event> runs the Effect. The first error stops the
// rest, and the caller's transaction rolls back. It returns the new state.
func (m *Machine[T]) Fire(ctx context.Context, subject T, current State, event Event, by Role) (State, error) {
	t, err := m.admit(subject, current, event, by)
	if err != nil {
		return "", err
	}
	fired := Fired{Event: event, From: current, To: t.To, By: by}
	var failed error
	step := func(e *fsm.Event, fn func() error) {
		if failed != nil || fn == nil {
			return
		}
		if failed = fn(); failed != nil {
			e.Err = failed
		}
	}
	callbacks := fsm.Callbacks{
		"before_" + string(event): func(_ context.Context, e *fsm.Event) {
			if t.Check == nil {
				return
			}
			if err := t.Check(subject); err != nil {
				failed = err
				e.Cancel(err)
			}
		},
		"enter_state": func(_ context.Context, e *fsm.Event) {
			step(e, func() error { return m.Write(subject, fired) })
		},
		"after_" + string(event): func(_ context.Context, e *fsm.Event) {
			if t.Effect != nil {
				step(e, func() error { return t.Effect(subject) })
			}
		},
	}
	if enter := m.Enter[t.To]; enter != nil {
		callbacks["enter_"+string(t.To)] = func(_ context.Context, e *fsm.Event) {
			step(e, func() error { return enter(subject, fired) })
		}
	}
	err = fsm.NewFSM(string(current), m.events(), callbacks).Event(ctx, string(event))
	if failed != nil {
		return "", failed
	}
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", m.Noun, event, err)
	}
	return t.To, nil
}

// Mermaid draws the machine as a Mermaid state diagram, written by
// looplab/fsm from the same declaration that Fire runs.
func (m *Machine[T]) Mermaid() string {
	out, err := fsm.VisualizeWithType(fsm.NewFSM(string(m.Initial), m.events(), nil), fsm.MermaidStateDiagram)
	if err != nil {
		panic(err) // a fixed diagram type: cannot happen
	}
	return out
}

func (m *Machine[T]) label(s State) string {
	if m.Label == nil {
		return string(s)
	}
	return m.Label(s)
}

// join lists states for people, each label once.
func (m *Machine[T]) join(states []State) string {
	var ss []string
	for _, s := range states {
		if l := m.label(s); !slices.Contains(ss, l) {
			ss = append(ss, l)
		}
	}
	var b strings.Builder
	for i, s := range ss {
		switch {
		case i == 0:
		case i == len(ss)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(s))
	}
	return b.String()
}

// Package archtest holds the tests that keep Coffer's layers apart: the core
// packages never import the GUI toolkit, and dependencies point one way.
package archtest

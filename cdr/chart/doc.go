// Package chart draws small bar charts as SVG on the server, for the admin
// pages' call statistics: no JavaScript, no fonts or scripts from elsewhere.
// Every piece of text (title, labels, units) goes through html/template, so a
// room or label that holds markup is shown, never run.
//
// It imports only the standard library.
package chart

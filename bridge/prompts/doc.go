// Package prompts holds the spoken prompts of the bridge's PIN IVR: real speech
// produced once with espeak-ng (see generate.sh and README.md), committed as
// 16 kHz mono 16-bit raw PCM, embedded in the binary and served as 48 kHz mono
// int16 frames of 20 ms, the bridge's internal audio format.
//
// It is a leaf: it imports nothing of the module.
package prompts

// A one-line progress display on stderr, shared by the long-running commands (`octet
// train`, `octet run`): on a terminal the line is redrawn in place; elsewhere (logs, CI) a
// caller either prints only the updates it marks as milestones or stays silent.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace octet {

class ProgressLine {
 public:
  // What to print when stderr is not a terminal.
  enum class OffTerminal {
    kMilestones,  // the updates marked as milestones, a line each
    kSilent,      // nothing
  };

  ProgressLine(bool enabled, OffTerminal off_terminal)
      : enabled_(enabled), tty_(isatty(fileno(stderr)) != 0), off_terminal_(off_terminal) {}
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool enabled() const { return enabled_; }
  bool tty() const { return tty_; }

  // Shows `text`: on a terminal in place of the current line; elsewhere as a line of its
  // own if it is a milestone and milestones are printed.
  void Update(const std::string& text, bool milestone) {
    if (!enabled_) return;
    if (tty_) {
      // Trailing blanks cover the rest of a longer previous line.
      const size_t pad = width_ > text.size() + 3 ? width_ - text.size() : 3;
      fmt::print(stderr, "\r{}{}", text, std::string(pad, ' '));
      width_ = text.size() + 3;
    } else {
      if (!milestone || off_terminal_ == OffTerminal::kSilent) return;
      fmt::print(stderr, "{}\n", text);
    }
    std::fflush(stderr);
  }

  // Keeps the last line on a terminal and moves to the next one.
  void Finish() {
    if (enabled_ && tty_) fmt::print(stderr, "\n");
    width_ = 0;
  }

  // Erases the line on a terminal (before other output is printed); safe to repeat.
  void Clear() {
    if (!enabled_ || !tty_ || width_ == 0) return;
    fmt::print(stderr, "\r{}\r", std::string(width_, ' '));
    std::fflush(stderr);
    width_ = 0;
  }

  // A one-off status line (e.g. the evaluation that follows an epoch), on a terminal or not.
  void Status(const std::string& text) {
    if (!enabled_) return;
    fmt::print(stderr, "{}\n", text);
    std::fflush(stderr);
  }

 private:
  bool enabled_, tty_;
  OffTerminal off_terminal_;
  size_t width_ = 0;  // characters drawn on the current terminal line
};

}  // namespace octet

#pragma once
// Where logs go: stderr, through spdlog's default logger (stdout carries data
// only). Two formats:
//   a terminal, file or pipe:  2026-12-02 07:00:00.123 ndserver warning: text
//   the systemd journal:       <4>ndserver warning: text
// The journal form starts with the sd-daemon(3) priority of the level (<7>
// debug and trace, <6> info, <4> warning, <3> error, <2> critical), so
// `journalctl -p warning` finds the warnings, and has no timestamp: journald
// stamps every line itself. stderr is the journal when $JOURNAL_STREAM, which
// systemd sets, names stderr's device and inode ("dev:ino").
#include <mutex>
#include <string>

namespace netdisp::modes {

// Makes the default logger, named `program`, in the format above. Call once,
// before any thread starts.
void set_up_logging(const std::string& program);

// The error that ends the program, outside the log: "program: message" as
// one line on stderr, with the <3> priority when stderr is the journal.
void print_error(const std::string& program, const std::string& message);

// Another line shown on stderr that log lines must not mix with (the
// client's progress line, modes/progress.h): while `erase` is set, it runs
// before every log line is written, both under stderr_line_lock(), which the
// other writer holds too while it draws. nullptr ends that; until then log
// lines take no lock of ours. Call before any thread that logs starts.
void erase_before_log_lines(void (*erase)());
std::mutex& stderr_line_lock();

}  // namespace netdisp::modes

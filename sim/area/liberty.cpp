#include "sim/area/liberty.h"

#include <cctype>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "golden/core/error.h"
#include "golden/core/text_file.h"

namespace octet::area {
namespace {

// ---- Liberty syntax: groups `name (args) { ... }`, attributes `name : value ;` and
// `name (args) ;`, /* */ and // comments, backslash line continuations.

struct Token {
  enum Kind { kWord, kString, kPunct, kEnd } kind = kEnd;
  std::string text;
  int line = 0;
};

class Lexer {
 public:
  Lexer(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Token Next() {
    SkipSpace();
    Token t;
    t.line = line_;
    if (i_ >= s_.size()) return t;
    const char c = s_[i_];
    if (c == '"') {
      ++i_;
      while (i_ < s_.size() && s_[i_] != '"') {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
          if (s_[i_ + 1] == '\n') ++line_;
          i_ += 2;
          continue;
        }
        if (s_[i_] == '\n') ++line_;
        t.text += s_[i_++];
      }
      if (i_ >= s_.size()) Fail("{}: line {}: unterminated string", path_, t.line);
      ++i_;
      t.kind = Token::kString;
      return t;
    }
    if (std::string_view("{}():;,").find(c) != std::string_view::npos) {
      ++i_;
      t.kind = Token::kPunct;
      t.text = std::string(1, c);
      return t;
    }
    while (i_ < s_.size()) {
      const char d = s_[i_];
      if (std::isspace(static_cast<unsigned char>(d)) || std::string_view("{}():;,\"").find(d) != std::string_view::npos)
        break;
      if (d == '/' && i_ + 1 < s_.size() && (s_[i_ + 1] == '*' || s_[i_ + 1] == '/')) break;
      t.text += d;
      ++i_;
    }
    if (t.text.empty()) Fail("{}: line {}: unexpected character '{}'", path_, t.line, c);
    t.kind = Token::kWord;
    return t;
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\n') {
        ++line_;
        ++i_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
      } else if (c == '\\' && i_ + 1 < s_.size() && (s_[i_ + 1] == '\n' || s_[i_ + 1] == '\r')) {
        ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        const int start = line_;
        i_ += 2;
        while (i_ + 1 < s_.size() && !(s_[i_] == '*' && s_[i_ + 1] == '/')) {
          if (s_[i_] == '\n') ++line_;
          ++i_;
        }
        if (i_ + 1 >= s_.size()) Fail("{}: line {}: unterminated comment", path_, start);
        i_ += 2;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else {
        return;
      }
    }
  }

  const std::string& s_;
  const std::string& path_;
  size_t i_ = 0;
  int line_ = 1;
};

struct Group {
  std::string type;
  std::vector<std::string> args;
  std::map<std::string, std::string> attrs;  // simple attributes (the last one wins)
  std::vector<std::unique_ptr<Group>> groups;
  int line = 0;
};

class Parser {
 public:
  Parser(const std::string& text, const std::string& path) : lex_(text, path), path_(path) { Advance(); }

  // The file's top-level groups.
  std::vector<std::unique_ptr<Group>> ParseFile() {
    std::vector<std::unique_ptr<Group>> top;
    while (tok_.kind != Token::kEnd) {
      Group scratch;
      ParseStatement(scratch);
      for (auto& g : scratch.groups) top.push_back(std::move(g));
      if (!scratch.attrs.empty()) Fail("{}: line {}: attribute outside a group", path_, tok_.line);
    }
    return top;
  }

 private:
  void Advance() { tok_ = lex_.Next(); }
  bool IsPunct(char c) const { return tok_.kind == Token::kPunct && tok_.text[0] == c; }
  void Expect(char c, const char* what) {
    if (!IsPunct(c))
      Fail("{}: line {}: expected '{}' {}, found {}", path_, tok_.line, c, what,
           tok_.kind == Token::kEnd ? "end of file" : "'" + tok_.text + "'");
    Advance();
  }

  // One statement inside `parent`: a group, a complex attribute or a simple attribute.
  void ParseStatement(Group& parent) {
    if (tok_.kind != Token::kWord)
      Fail("{}: line {}: expected a name, found {}", path_, tok_.line,
           tok_.kind == Token::kEnd ? "end of file" : "'" + tok_.text + "'");
    const std::string name = tok_.text;
    const int line = tok_.line;
    Advance();
    if (IsPunct(':')) {
      Advance();
      std::string value;
      while (tok_.kind == Token::kWord || tok_.kind == Token::kString) {  // e.g. `area : 1.0 ;`
        value += (value.empty() ? "" : " ") + tok_.text;
        Advance();
      }
      if (value.empty()) Fail("{}: line {}: attribute '{}' has no value", path_, line, name);
      if (IsPunct(';')) Advance();
      parent.attrs[name] = value;
      return;
    }
    Expect('(', fmt::format("after '{}'", name).c_str());
    std::vector<std::string> args;
    while (!IsPunct(')')) {
      if (tok_.kind == Token::kEnd) Fail("{}: line {}: unterminated '(' of '{}'", path_, line, name);
      if (!IsPunct(',')) args.push_back(tok_.text);
      Advance();
    }
    Advance();
    if (IsPunct('{')) {
      Advance();
      auto g = std::make_unique<Group>();
      g->type = name;
      g->args = std::move(args);
      g->line = line;
      while (!IsPunct('}')) {
        if (tok_.kind == Token::kEnd) Fail("{}: line {}: group '{}' is not closed", path_, line, name);
        ParseStatement(*g);
      }
      Advance();
      parent.groups.push_back(std::move(g));
      return;
    }
    if (IsPunct(';')) Advance();  // complex attribute, e.g. capacitive_load_unit (1, pf);
  }

  Lexer lex_;
  const std::string& path_;
  Token tok_;
};

// ---- Boolean functions of output pins.

class FunctionEval {
 public:
  FunctionEval(const std::string& f, const std::map<std::string, bool>& pins) : f_(f), pins_(pins) {}

  bool Run() {
    const bool v = Or();
    Skip();
    if (i_ != f_.size()) throw std::invalid_argument("unexpected '" + f_.substr(i_) + "'");
    return v;
  }

 private:
  void Skip() {
    while (i_ < f_.size() && std::isspace(static_cast<unsigned char>(f_[i_]))) ++i_;
  }
  char Peek() {
    Skip();
    return i_ < f_.size() ? f_[i_] : '\0';
  }
  static bool StartsPrimary(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '(' || c == '!';
  }
  bool Or() {
    bool v = And();
    while (Peek() == '+' || Peek() == '|') {
      ++i_;
      v = And() || v;
    }
    return v;
  }
  bool And() {
    bool v = Xor();
    for (;;) {
      const char c = Peek();
      if (c == '*' || c == '&') {
        ++i_;
      } else if (!StartsPrimary(c)) {
        return v;
      }
      v = Xor() && v;
    }
  }
  bool Xor() {
    bool v = Unary();
    while (Peek() == '^') {
      ++i_;
      v = Unary() != v;
    }
    return v;
  }
  bool Unary() {
    if (Peek() == '!') {
      ++i_;
      return !Unary();
    }
    bool v = Primary();
    while (Peek() == '\'') {
      ++i_;
      v = !v;
    }
    return v;
  }
  bool Primary() {
    const char c = Peek();
    if (c == '(') {
      ++i_;
      const bool v = Or();
      if (Peek() != ')') throw std::invalid_argument("missing ')'");
      ++i_;
      return v;
    }
    std::string name;
    while (i_ < f_.size() && (std::isalnum(static_cast<unsigned char>(f_[i_])) || f_[i_] == '_' || f_[i_] == '[' ||
                              f_[i_] == ']' || f_[i_] == '.')) {
      name += f_[i_++];
    }
    if (name.empty()) throw std::invalid_argument(c ? std::string("unexpected '") + c + "'" : "unexpected end");
    if (name == "0") return false;
    if (name == "1") return true;
    const auto it = pins_.find(name);
    if (it == pins_.end()) throw std::invalid_argument("unknown pin '" + name + "'");
    return it->second;
  }

  const std::string& f_;
  const std::map<std::string, bool>& pins_;
  size_t i_ = 0;
};

double ParseArea(const std::string& value, const std::string& path, const Group& cell) {
  char* end = nullptr;
  const double a = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0' || !(a >= 0))
    Fail("{}: line {}: cell {}: area '{}' is not a non-negative number", path, cell.line, cell.args.at(0), value);
  return a;
}

bool IsNand2(const Group& cell, const std::string& path) {
  std::vector<std::string> inputs;
  std::vector<std::string> functions;
  for (const auto& g : cell.groups) {
    if (g->type == "ff" || g->type == "latch" || g->type == "statetable") return false;
    if (g->type != "pin" || g->args.empty()) continue;
    const auto dir = g->attrs.find("direction");
    if (dir == g->attrs.end()) continue;
    if (dir->second == "input") inputs.push_back(g->args[0]);
    if (dir->second == "output") {
      const auto fn = g->attrs.find("function");
      if (fn == g->attrs.end()) return false;
      functions.push_back(fn->second);
    }
  }
  if (inputs.size() != 2 || functions.size() != 1) return false;
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 2; ++b) {
      const std::map<std::string, bool> pins = {{inputs[0], a != 0}, {inputs[1], b != 0}};
      bool out = false;
      try {
        out = EvalLibertyFunction(functions[0], pins);
      } catch (const std::invalid_argument& e) {
        Fail("{}: line {}: cell {}: function \"{}\": {}", path, cell.line, cell.args.at(0), functions[0], e.what());
      }
      if (out != !(a && b)) return false;
    }
  }
  return true;
}

}  // namespace

bool EvalLibertyFunction(const std::string& function, const std::map<std::string, bool>& pins) {
  return FunctionEval(function, pins).Run();
}

CellLibrary ParseLiberty(const std::string& text, const std::string& path) {
  Parser parser(text, path);
  auto top = parser.ParseFile();
  if (top.size() != 1 || top[0]->type != "library")
    Fail("{}: not a Liberty file (expected one library (...) {{ ... }} group)", path);
  const Group& lib = *top[0];
  CellLibrary out;
  out.path = path;
  out.name = lib.args.empty() ? "" : lib.args[0];
  for (const auto& g : lib.groups) {
    if (g->type != "cell") continue;
    if (g->args.size() != 1) Fail("{}: line {}: a cell group takes one name", path, g->line);
    const auto area = g->attrs.find("area");
    if (area == g->attrs.end()) Fail("{}: line {}: cell {} has no area", path, g->line, g->args[0]);
    LibertyCell cell;
    cell.area = ParseArea(area->second, path, *g);
    for (const auto& sub : g->groups) {
      if (sub->type == "ff" || sub->type == "ff_bank") cell.flip_flop = true;
      if (sub->type == "latch" || sub->type == "latch_bank") cell.latch = true;
    }
    cell.nand2 = IsNand2(*g, path);
    if (cell.nand2 && cell.area > 0 && (out.nand2_cell.empty() || cell.area < out.nand2_area)) {
      out.nand2_cell = g->args[0];
      out.nand2_area = cell.area;
    }
    out.cells[g->args[0]] = cell;
  }
  if (out.cells.empty()) Fail("{}: the library has no cells", path);
  if (out.nand2_cell.empty())
    Fail("{}: no 2-input NAND cell (function \"!(A & B)\"): the unit of NAND2-equivalent area", path);
  return out;
}

CellLibrary LoadLiberty(const std::string& path) { return ParseLiberty(ReadTextFile(path, "a Liberty cell library"), path); }

}  // namespace octet::area

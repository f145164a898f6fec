#pragma once
// What a command does with an output that exists already: refuse (the
// default; exit 2, nothing touched) or replace it (--force).
namespace flowlat {

enum class OverwritePolicy { Refuse, Force };

}  // namespace flowlat

#pragma once
// Which configuration changes a restart accepts (README: checkpoints and
// restart). The resolved configuration stored in a checkpoint or ensemble
// file is compared with the new one key by key; the `changeable` column of
// the key tables says which keys may differ on which restart.
#include <string>
#include <vector>

#include "config/Config.hpp"

namespace flowlat {

// One line per key that differs and may not on `restart` (one of
// Changeable::OnTrainResume, OnSampleResume, OnHmcResume), sorted by key:
// "train.lr: 0.001 <stored_where>, 0.002 now". A key missing from the
// stored text (written before the key existed) counts as its default.
// Empty when the restart may go on. Local.
std::vector<std::string> forbidden_changes(const std::string& stored_yaml, const std::string& new_yaml,
                                           Changeable restart, const std::string& stored_where);

// Throws ConfigError "<context>: <refusal>:" followed by forbidden_changes'
// lines, one per key, when there are any; a stored text that cannot be read
// is refused as "<context>: the configuration <stored_where> cannot be
// read (...)". Every restart check (train, sample, hmc, ti) words its
// refusal through this. Local.
void refuse_forbidden_changes(const std::string& stored_yaml, const std::string& new_yaml, Changeable restart,
                              const std::string& stored_where, const std::string& context,
                              const std::string& refusal);

// True for the keys that may differ on `restart`. Local.
bool may_change(const std::string& key, Changeable restart);

}  // namespace flowlat

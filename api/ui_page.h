// The status page served at GET /ui: one self-contained HTML document.
#pragma once

#include <string_view>

namespace raftlock::api {

std::string_view ui_page_html();

}  // namespace raftlock::api

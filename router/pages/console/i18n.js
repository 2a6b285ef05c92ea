// Every word the console shows, in Thai and English (one table), and the formats of times and
// ages. The Thai is the hotline's own words: short, the terms 1300 operators use on shift.

const LANG_KEY = 'ess.console.lang';

const TEXT = {
  th: {
    app_title: 'ESS คอนโซลเจ้าหน้าที่ 1300',
    brand: 'ESS 1300',
    skip: 'ข้ามไปเนื้อหาหลัก',
    nav_label: 'เมนูหลัก',
    nav_queue: 'คิวงาน',
    nav_new: 'รับแจ้งใหม่',
    nav_teams: 'ทีม',
    nav_help: 'วิธีใช้',
    lang_toggle: 'English',
    lang_toggle_label: 'Switch to English',
    sound_on: 'เสียงเตือน: เปิด',
    sound_off: 'เสียงเตือน: ปิด',
    logout: 'ออกจากระบบ',
    signed_in_as: 'เจ้าหน้าที่',
    role_operator: 'เจ้าหน้าที่',
    role_supervisor: 'หัวหน้าเวร',
    search_label: 'ค้นหาเรื่อง',
    search_placeholder: 'รหัสติดตาม / เบอร์โทร / รหัสเรื่อง',
    search_button: 'ค้นหา',
    loading: 'กำลังโหลด…',
    close: 'ปิด',
    cancel: 'ยกเลิก',
    retry: 'ลองใหม่',
    none: '—',
    yes: 'ใช่',
    no: 'ไม่',

    login_title: 'เข้าสู่ระบบ',
    login_intro: 'สำหรับเจ้าหน้าที่สายด่วน 1300 และหัวหน้าเวร',
    operator_id: 'รหัสเจ้าหน้าที่',
    password: 'รหัสผ่าน',
    login_button: 'เข้าสู่ระบบ',
    login_wrong: 'รหัสเจ้าหน้าที่หรือรหัสผ่านไม่ถูกต้อง',
    login_locked: 'ใส่รหัสผิดหลายครั้ง ระบบพักการเข้าใช้ไว้ชั่วคราว กรุณารออีก {wait} แล้วลองใหม่',
    login_missing: 'กรุณากรอกรหัสเจ้าหน้าที่และรหัสผ่าน',
    session_ended: 'หมดเวลาใช้งาน กรุณาเข้าสู่ระบบอีกครั้ง',
    logged_out: 'ออกจากระบบแล้ว',

    queue_title: 'คิวงาน',
    queue_needs_human: 'รอเจ้าหน้าที่',
    queue_active: 'กำลังดำเนินการ',
    queue_empty: 'ไม่มีเรื่องในคิว',
    queue_filter_category: 'หมวด',
    queue_filter_status: 'สถานะ',
    queue_filter_all: 'ทั้งหมด',
    queue_live: 'อัปเดตสด',
    queue_offline: 'ขาดการเชื่อมต่อ กำลังเชื่อมใหม่…',
    queue_new_case: 'มีเรื่องใหม่รอเจ้าหน้าที่: {code}',
    queue_search_results: 'ผลการค้นหา “{q}”',
    queue_search_none: 'ไม่พบเรื่องที่ค้นหา',
    queue_search_clear: 'กลับไปที่คิว',
    col_priority: 'ความด่วน',
    col_category: 'หมวด',
    col_status: 'สถานะ',
    col_age: 'รอมาแล้ว',
    col_team: 'ทีม',
    col_reason: 'เหตุที่รอ',
    col_code: 'รหัสติดตาม',
    col_channel: 'ช่องทาง',
    open_case: 'เปิดเรื่อง {code}',
    triage_flag: 'ระบบไม่แน่ใจ',
    triage_suggested: 'แนะนำ: {category}',
    triage_confirm: 'ยืนยัน',
    triage_confirm_label: 'ยืนยันหมวด {category} ของเรื่อง {code}',
    triage_confirmed: 'ยืนยันหมวด {category} ของเรื่อง {code} แล้ว',

    new_title: 'รับแจ้งใหม่',
    new_intro: 'กรอกขณะคุยสายกับผู้แจ้ง ระบบจะคัดกรองและส่งต่อทีมที่ใกล้ที่สุดให้ทันที',
    f_description: 'เหตุที่แจ้ง',
    f_description_hint: 'เล่าสั้น ๆ ตามที่ผู้แจ้งบอก',
    f_category: 'หมวด',
    f_category_auto: 'ให้ระบบคัดกรอง',
    f_lat: 'ละติจูด',
    f_lon: 'ลองจิจูด',
    f_location: 'จุดเกิดเหตุ',
    f_location_hint: 'คลิกบนแผนที่ หรือพิมพ์พิกัด ถ้ายังไม่รู้จุด เว้นว่างได้ เรื่องจะรอเจ้าหน้าที่ระบุจุด',
    f_address: 'ที่อยู่ / จุดสังเกต',
    f_reporter_name: 'ชื่อผู้แจ้ง',
    f_reporter_phone: 'เบอร์โทรผู้แจ้ง',
    f_call_id: 'เลขที่สาย',
    f_call_id_hint: 'ระบบตั้งให้ แก้ได้ ส่งซ้ำด้วยเลขเดิมจะไม่เกิดเรื่องซ้ำ',
    f_submit: 'บันทึกและส่งต่อ',
    f_submitting: 'กำลังบันทึก…',
    f_clear_point: 'ล้างจุด',
    suggest_label: 'ระบบแนะนำ',
    suggest_text: '{category} ({priority}) ความมั่นใจ {confidence}%',
    suggest_use: 'ใช้หมวดนี้',
    suggest_none: 'ยังแนะนำไม่ได้',
    suggest_unsure: 'ระบบไม่แน่ใจ ถ้าไม่เลือกหมวด เรื่องจะรอเจ้าหน้าที่คัดกรองก่อนส่งต่อ',
    err_lat_lon_both: 'ใส่ทั้งละติจูดและลองจิจูด หรือเว้นว่างทั้งคู่',
    err_lat_range: 'ละติจูดต้องอยู่ระหว่าง -90 ถึง 90',
    err_lon_range: 'ลองจิจูดต้องอยู่ระหว่าง -180 ถึง 180',
    err_required: 'ต้องกรอกช่องนี้',
    err_form: 'บันทึกไม่สำเร็จ กรุณาตรวจช่องที่แจ้งไว้',
    answer_title: 'บันทึกแล้ว',
    answer_code_label: 'รหัสติดตาม อ่านให้ผู้แจ้งจด',
    answer_assigned: 'ส่งต่อทีมแล้ว: {team} ห่าง {dist}',
    answer_queued: 'รอดำเนินการ: {reason}',
    answer_needs_triage: 'ระบบไม่แน่ใจหมวด (แนะนำ: {category}) เรื่องนี้อยู่บนสุดของคิว รอเจ้าหน้าที่คัดกรอง ยืนยันหรือแก้หมวดก่อนส่งต่อทีม',
    answer_status: 'สถานะ: {status}',
    answer_repeat: 'เลขที่สายนี้บันทึกไว้แล้ว นี่คือเรื่องเดิม',
    answer_open: 'เปิดเรื่องนี้',
    answer_public: 'ผู้แจ้งติดตามสถานะเองได้ที่',
    answer_another: 'รับแจ้งรายใหม่',
    conflict_call_id: 'เลขที่สายนี้ใช้กับเรื่องอื่นแล้ว กรุณาใช้เลขใหม่',

    case_title: 'เรื่อง {code}',
    case_facts: 'ข้อมูลเรื่อง',
    case_timeline: 'ลำดับเหตุการณ์',
    case_map: 'แผนที่',
    case_actions: 'การดำเนินการ',
    case_not_found: 'ไม่พบเรื่องนี้',
    case_updated: 'เรื่องนี้มีความเคลื่อนไหว อัปเดตแล้ว',
    fact_status: 'สถานะ',
    fact_category: 'หมวด',
    fact_suggested: 'ระบบแนะนำหมวด',
    fact_priority: 'ความด่วน',
    fact_channel: 'ช่องทาง',
    fact_code: 'รหัสติดตาม',
    fact_case_id: 'รหัสเรื่อง',
    fact_call_id: 'เลขที่สาย',
    fact_description: 'เหตุที่แจ้ง',
    fact_address: 'ที่อยู่',
    fact_coords: 'พิกัด',
    fact_reporter: 'ผู้แจ้ง',
    fact_phone: 'เบอร์โทร',
    fact_team: 'ทีม',
    fact_distance: '{km} กม.',
    fact_reason: 'เหตุที่รอ',
    fact_attempts: 'ส่งต่อไปแล้ว',
    fact_ack_deadline: 'ทีมต้องรับเรื่องภายใน',
    fact_created: 'รับแจ้งเมื่อ',
    fact_updated: 'อัปเดตล่าสุด',
    fact_no_coords: 'ยังไม่มีพิกัด',
    tl_time: 'เวลา',
    tl_what: 'เหตุการณ์',
    tl_by: 'โดย',
    tl_note: 'รายละเอียด',
    ev_note: 'บันทึกเจ้าหน้าที่',
    ev_dispatch: 'ส่งงานให้ทีม',
    ev_triage: 'คัดกรองโดยเจ้าหน้าที่',
    ev_location: 'ระบุจุดเกิดเหตุ',
    ev_reporter_note: 'ผู้แจ้งเล่าเพิ่ม',
    ev_media: 'ผู้แจ้งส่งไฟล์',
    ev_consent: 'ความยินยอม',
    ev_chat: 'แชตกับผู้แจ้ง',
    chat_note_waiting: 'ผู้แจ้งขอคุยกับเจ้าหน้าที่',
    chat_note_taken: 'เจ้าหน้าที่รับแชต',
    chat_note_closed: 'จบการสนทนา',
    chat_note_escalated: 'ผู้แจ้งรอนานเกินกำหนด แจ้งหัวหน้าเวรแล้ว',
    chat_title: 'แชตกับผู้แจ้งทาง LINE',
    chat_badge: 'แชต',
    chat_waiting: 'รอคุยกับเจ้าหน้าที่',
    chat_waited: 'ผู้แจ้งขอคุยกับเจ้าหน้าที่ รอมาแล้ว',
    chat_take: 'รับแชต',
    chat_take_label: 'รับแชตของเรื่อง {code}',
    chat_taken_by: '{op} กำลังตอบแชตนี้อยู่แล้ว',
    chat_answered_by: 'ตอบโดย {op}',
    chat_yours: 'คุณกำลังตอบแชตนี้ ผู้แจ้งเห็นทุกข้อความที่ส่ง',
    chat_you: 'คุณ',
    chat_reporter: 'ผู้แจ้ง',
    chat_log_label: 'ข้อความในแชต',
    chat_empty: 'ยังไม่มีข้อความ',
    chat_text_label: 'ข้อความถึงผู้แจ้ง',
    chat_placeholder: 'พิมพ์ข้อความถึงผู้แจ้ง (Enter ส่ง, Shift+Enter ขึ้นบรรทัดใหม่)',
    chat_send: 'ส่ง',
    chat_left: 'พิมพ์ได้อีก {n} ตัวอักษร',
    chat_close: 'จบการสนทนา',
    chat_close_confirm: 'จบการสนทนากับผู้แจ้งใช่ไหม? ผู้แจ้งจะได้รับข้อความว่าเจ้าหน้าที่จบการสนทนาแล้ว และกลับไปคุยกับระบบตอบอัตโนมัติ',
    chat_closed: 'จบการสนทนาแล้ว',
    chat_escalated: 'รอนานเกินกำหนด',
    chat_new: 'ผู้แจ้งส่งข้อความใหม่',
    chat_queue_new: 'ผู้แจ้งทาง LINE ขอคุยกับเจ้าหน้าที่: {code}',
    by_router: 'ระบบ',
    by_reporter: 'ผู้แจ้ง',
    act_status: 'เปลี่ยนสถานะ',
    act_status_to: 'สถานะใหม่',
    act_status_note: 'หมายเหตุ (ถ้ามี)',
    act_status_submit: 'เปลี่ยนสถานะ',
    act_note: 'บันทึกเพิ่ม',
    act_note_text: 'ข้อความ (เห็นเฉพาะเจ้าหน้าที่)',
    act_note_submit: 'บันทึก',
    act_triage: 'คัดกรองใหม่',
    act_triage_submit: 'บันทึกการคัดกรอง',
    act_triage_keep: 'ไม่เปลี่ยน',
    act_triage_confirm: 'ยืนยันหมวดที่แนะนำ: {category}',
    act_place: 'ระบุจุดเกิดเหตุ',
    act_place_hint: 'คลิกบนแผนที่ หรือพิมพ์พิกัด แล้วกดบันทึก ระบบจะหาทีมให้',
    act_place_submit: 'บันทึกจุดและหาทีม',
    act_candidates: 'ทีมที่ส่งต่อได้',
    act_candidates_none: 'ไม่มีทีมที่มีทักษะตรง',
    act_assign: 'ส่งต่อ {team}',
    act_assign_short: 'ส่งต่อ',
    act_done: 'บันทึกแล้ว',
    far_title: 'ทีมนี้อยู่ไกล',
    far_text: '{team} อยู่ห่าง {dist} ไกลกว่ารัศมีที่กำหนดของหมวดนี้ ยืนยันส่งต่อทีมนี้?',
    far_confirm: 'ยืนยันส่งต่อ',
    cand_team: 'ทีม',
    cand_distance: 'ระยะทาง',
    cand_load: 'งานในมือ',
    cand_available: 'ว่าง',
    cand_holds: 'ถือเรื่องนี้อยู่',
    cand_far: 'นอกรัศมี',
    cand_full: 'งานเต็ม',
    teams_title: 'ทีมสหวิชาชีพ',
    teams_empty: 'ยังไม่มีทีม',
    team_name: 'ทีม',
    team_id: 'รหัสทีม',
    team_skills: 'ทักษะ',
    team_available: 'สถานะ',
    team_load: 'งานในมือ / รับได้',
    team_updated: 'ตำแหน่งล่าสุด',
    team_is_available: 'ว่าง',
    team_is_unavailable: 'ไม่ว่าง',
    map_no_tiles: 'ไม่มีแผนที่ฐาน (ไม่ได้ตั้ง ESS_MAP_TILES) แสดงเฉพาะหมุด',
    map_incident: 'จุดเกิดเหตุ',
    map_label: 'แผนที่ {what}',
    help_title: 'วิธีใช้และปุ่มลัด',
    help_intro: 'ใช้คีย์บอร์ดได้ทั้งหมด: Tab ไปช่องถัดไป, Shift+Tab ย้อนกลับ, Enter หรือ Space กดปุ่ม ปุ่มลัดใช้ได้เมื่อไม่ได้พิมพ์อยู่ในช่องกรอก',
    key_queue: 'ไปที่คิวงาน',
    key_new: 'รับแจ้งใหม่',
    key_teams: 'ดูทีม',
    key_search: 'ไปที่ช่องค้นหา',
    key_lang: 'สลับภาษาไทย / อังกฤษ',
    key_sound: 'เปิด / ปิดเสียงเตือน',
    key_help: 'เปิดวิธีใช้นี้',
    key_escape: 'ปิดหน้าต่างนี้',
    err_network: 'ติดต่อเซิร์ฟเวอร์ไม่ได้ กรุณาลองใหม่',
    err_forbidden: 'ไม่มีสิทธิ์ทำรายการนี้',
    err_busy: 'ระบบไม่ว่างชั่วคราว กรุณาลองใหม่',
    err_generic: 'ทำรายการไม่สำเร็จ: {message}',
    code_invalid_transition: 'เปลี่ยนเป็นสถานะนี้ตอนนี้ไม่ได้ (ต้องไปตามลำดับขั้น)',
    code_not_assigned: 'เรื่องนี้ยังไม่มีทีมรับ',
    code_team_full: 'ทีมนี้งานเต็มแล้ว',
    code_team_not_found: 'ไม่พบทีมนี้',
    code_not_found: 'ไม่พบเรื่องนี้',
    code_invalid_field: 'ข้อมูลไม่ถูกต้อง',
    code_missing_field: 'ต้องกรอกช่องนี้',
    code_rate_limited: 'ทำรายการถี่เกินไป กรุณารอสักครู่',
    code_chat_taken: 'มีเจ้าหน้าที่คนอื่นตอบแชตนี้อยู่แล้ว',
    code_no_chat: 'เรื่องนี้ไม่มีแชตที่รอเจ้าหน้าที่',
    code_chat_not_open: 'ยังไม่ได้รับแชตนี้ กรุณากด “รับแชต” ก่อน',
    code_no_line_user: 'ส่งข้อความไม่ได้ ผู้แจ้งไม่มีบัญชี LINE ในเรื่องนี้แล้ว',
    wait_minutes: '{n} นาที',
    wait_seconds: '{n} วินาที',
    km: '{km} กม.',
  },
  en: {
    app_title: 'ESS operator console (1300)',
    brand: 'ESS 1300',
    skip: 'Skip to main content',
    nav_label: 'Main menu',
    nav_queue: 'Queue',
    nav_new: 'New call',
    nav_teams: 'Teams',
    nav_help: 'Help',
    lang_toggle: 'ไทย',
    lang_toggle_label: 'เปลี่ยนเป็นภาษาไทย',
    sound_on: 'Alert sound: on',
    sound_off: 'Alert sound: off',
    logout: 'Log out',
    signed_in_as: 'Operator',
    role_operator: 'Operator',
    role_supervisor: 'Supervisor',
    search_label: 'Find a case',
    search_placeholder: 'Tracking code / phone / case id',
    search_button: 'Find',
    loading: 'Loading…',
    close: 'Close',
    cancel: 'Cancel',
    retry: 'Try again',
    none: '—',
    yes: 'Yes',
    no: 'No',

    login_title: 'Log in',
    login_intro: 'For 1300 hotline operators and supervisors',
    operator_id: 'Operator ID',
    password: 'Password',
    login_button: 'Log in',
    login_wrong: 'Wrong operator ID or password.',
    login_locked: 'Too many failed attempts: logging in is paused. Please wait {wait} and try again.',
    login_missing: 'Enter your operator ID and password.',
    session_ended: 'Your session has ended. Please log in again.',
    logged_out: 'You are logged out.',

    queue_title: 'Queue',
    queue_needs_human: 'Needs an operator',
    queue_active: 'In progress',
    queue_empty: 'Nothing in the queue',
    queue_filter_category: 'Category',
    queue_filter_status: 'Status',
    queue_filter_all: 'All',
    queue_live: 'Live',
    queue_offline: 'Connection lost, reconnecting…',
    queue_new_case: 'New case needs an operator: {code}',
    queue_search_results: 'Results for “{q}”',
    queue_search_none: 'No case found',
    queue_search_clear: 'Back to the queue',
    col_priority: 'Priority',
    col_category: 'Category',
    col_status: 'Status',
    col_age: 'Age',
    col_team: 'Team',
    col_reason: 'Queue reason',
    col_code: 'Tracking code',
    col_channel: 'Channel',
    open_case: 'Open case {code}',
    triage_flag: 'Unsure',
    triage_suggested: 'Suggested: {category}',
    triage_confirm: 'Confirm',
    triage_confirm_label: 'Confirm {category} for case {code}',
    triage_confirmed: 'Case {code}: {category} confirmed',

    new_title: 'New call',
    new_intro: 'Fill this in while the caller is on the line: the case is classified and sent to the nearest suitable team at once.',
    f_description: 'What happened',
    f_description_hint: 'In a few words, as the caller says it',
    f_category: 'Category',
    f_category_auto: 'Let the system classify',
    f_lat: 'Latitude',
    f_lon: 'Longitude',
    f_location: 'Where',
    f_location_hint: 'Click the map or type the coordinates. Unknown? Leave them empty: the case waits for an operator to place it.',
    f_address: 'Address / landmark',
    f_reporter_name: 'Caller name',
    f_reporter_phone: 'Caller phone',
    f_call_id: 'Call ID',
    f_call_id_hint: 'Filled in for you, editable; sending the same ID again never makes a second case',
    f_submit: 'Save and dispatch',
    f_submitting: 'Saving…',
    f_clear_point: 'Clear point',
    suggest_label: 'Suggested',
    suggest_text: '{category} ({priority}), confidence {confidence}%',
    suggest_use: 'Use this category',
    suggest_none: 'No suggestion yet',
    suggest_unsure: 'Unsure: without a category chosen, the case waits for an operator\'s triage before it is sent.',
    err_lat_lon_both: 'Give both latitude and longitude, or neither.',
    err_lat_range: 'Latitude must be between -90 and 90.',
    err_lon_range: 'Longitude must be between -180 and 180.',
    err_required: 'This field is required.',
    err_form: 'Not saved: please check the fields marked.',
    answer_title: 'Saved',
    answer_code_label: 'Tracking code: read it to the caller',
    answer_assigned: 'Sent to team: {team}, {dist} away',
    answer_queued: 'Waiting: {reason}',
    answer_needs_triage: 'The system is unsure of the category (suggested: {category}): the case waits at the top of the queue for an operator to confirm or correct it before any team is sent.',
    answer_status: 'Status: {status}',
    answer_repeat: 'This call ID was saved before: this is the same case.',
    answer_open: 'Open this case',
    answer_public: 'The caller can follow it at',
    answer_another: 'Take a new call',
    conflict_call_id: 'This call ID belongs to another case: use a new one.',

    case_title: 'Case {code}',
    case_facts: 'Facts',
    case_timeline: 'Timeline',
    case_map: 'Map',
    case_actions: 'Actions',
    case_not_found: 'No such case',
    case_updated: 'This case changed: updated.',
    fact_status: 'Status',
    fact_category: 'Category',
    fact_suggested: 'Suggested category',
    fact_priority: 'Priority',
    fact_channel: 'Channel',
    fact_code: 'Tracking code',
    fact_case_id: 'Case ID',
    fact_call_id: 'Call ID',
    fact_description: 'What happened',
    fact_address: 'Address',
    fact_coords: 'Coordinates',
    fact_reporter: 'Caller',
    fact_phone: 'Phone',
    fact_team: 'Team',
    fact_distance: '{km} km',
    fact_reason: 'Queue reason',
    fact_attempts: 'Dispatch attempts',
    fact_ack_deadline: 'Team must acknowledge by',
    fact_created: 'Received',
    fact_updated: 'Last update',
    fact_no_coords: 'Not placed yet',
    tl_time: 'Time',
    tl_what: 'What',
    tl_by: 'By',
    tl_note: 'Details',
    ev_note: 'Operator note',
    ev_dispatch: 'Dispatch to team',
    ev_triage: 'Triage by an operator',
    ev_location: 'Location set',
    ev_reporter_note: 'Caller added',
    ev_media: 'Caller sent a file',
    ev_consent: 'Consent',
    ev_chat: 'Chat with the reporter',
    chat_note_waiting: 'the reporter asked to talk to a person',
    chat_note_taken: 'taken by an operator',
    chat_note_closed: 'chat ended',
    chat_note_escalated: 'waited too long: supervisors told',
    chat_title: 'LINE chat with the reporter',
    chat_badge: 'Chat',
    chat_waiting: 'waiting to talk',
    chat_waited: 'The reporter asked to talk to a person and has waited',
    chat_take: 'Take chat',
    chat_take_label: 'Take the chat of case {code}',
    chat_taken_by: '{op} is already answering this chat.',
    chat_answered_by: 'Answered by {op}',
    chat_yours: 'You are answering this chat: the reporter sees every message you send.',
    chat_you: 'You',
    chat_reporter: 'Reporter',
    chat_log_label: 'Chat messages',
    chat_empty: 'No messages yet',
    chat_text_label: 'Message to the reporter',
    chat_placeholder: 'Write to the reporter (Enter sends, Shift+Enter starts a new line)',
    chat_send: 'Send',
    chat_left: '{n} characters left',
    chat_close: 'End chat',
    chat_close_confirm: 'End the chat with the reporter? They are told that the operator has ended it, and the bot answers them again.',
    chat_closed: 'Chat ended',
    chat_escalated: 'Waited too long',
    chat_new: 'New message from the reporter',
    chat_queue_new: 'A LINE reporter asks to talk to a person: {code}',
    by_router: 'system',
    by_reporter: 'caller',
    act_status: 'Change status',
    act_status_to: 'New status',
    act_status_note: 'Note (optional)',
    act_status_submit: 'Change status',
    act_note: 'Add a note',
    act_note_text: 'Text (operators only)',
    act_note_submit: 'Save note',
    act_triage: 'Triage',
    act_triage_submit: 'Save triage',
    act_triage_keep: 'Unchanged',
    act_triage_confirm: 'Confirm the suggested category: {category}',
    act_place: 'Place the case',
    act_place_hint: 'Click the map or type the coordinates, then save: a team is searched for.',
    act_place_submit: 'Save place and route',
    act_candidates: 'Teams that can take it',
    act_candidates_none: 'No team has the skills',
    act_assign: 'Assign {team}',
    act_assign_short: 'Assign',
    act_done: 'Saved.',
    far_title: 'This team is far away',
    far_text: '{team} is {dist} away, beyond this category\'s radius. Assign it anyway?',
    far_confirm: 'Assign anyway',
    cand_team: 'Team',
    cand_distance: 'Distance',
    cand_load: 'Cases',
    cand_available: 'Available',
    cand_holds: 'holds this case',
    cand_far: 'beyond radius',
    cand_full: 'full',
    teams_title: 'Multidisciplinary teams',
    teams_empty: 'No teams yet',
    team_name: 'Team',
    team_id: 'Team ID',
    team_skills: 'Skills',
    team_available: 'Availability',
    team_load: 'Cases / capacity',
    team_updated: 'Last position',
    team_is_available: 'Available',
    team_is_unavailable: 'Unavailable',
    map_no_tiles: 'No base map (ESS_MAP_TILES is not set): markers only.',
    map_incident: 'Incident',
    map_label: 'Map: {what}',
    help_title: 'Help and shortcut keys',
    help_intro: 'Everything works from the keyboard: Tab to the next control, Shift+Tab back, Enter or Space to press. Shortcut keys work when you are not typing in a field.',
    key_queue: 'Go to the queue',
    key_new: 'New call',
    key_teams: 'Teams',
    key_search: 'Go to the search box',
    key_lang: 'Switch Thai / English',
    key_sound: 'Alert sound on / off',
    key_help: 'Open this help',
    key_escape: 'Close this window',
    err_network: 'Cannot reach the server. Please try again.',
    err_forbidden: 'You may not do this.',
    err_busy: 'The system is busy. Please try again.',
    err_generic: 'Not done: {message}',
    code_invalid_transition: 'The case cannot go to this status now (statuses go in order).',
    code_not_assigned: 'No team holds this case yet.',
    code_team_full: 'This team is full.',
    code_team_not_found: 'No such team.',
    code_not_found: 'No such case.',
    code_invalid_field: 'Not valid.',
    code_missing_field: 'This field is required.',
    code_rate_limited: 'Too many requests: please wait a moment.',
    code_chat_taken: 'Another operator is answering this chat.',
    code_no_chat: 'This case has no chat waiting for an operator.',
    code_chat_not_open: 'This chat is not taken yet: take it first.',
    code_no_line_user: 'Cannot send: the reporter\'s LINE account is no longer on this case.',
    wait_minutes: '{n} min',
    wait_seconds: '{n} s',
    km: '{km} km',
  },
};

// Labels of the API's codes. Categories as the rule table names them.
const CODES = {
  th: {
    category: {
      threat: 'ถูกข่มขู่', detention: 'ถูกกักขัง', abuse_risk: 'เสี่ยงถูกล่วงละเมิด',
      mental_crisis: 'ผู้คลุ้มคลั่ง', gathering: 'มั่วสุม', other: 'ปัญหาสังคมอื่น ๆ',
    },
    status: {
      received: 'รับแจ้ง', queued: 'รอดำเนินการ', assigned: 'ส่งต่อทีม',
      acknowledged: 'ทีมรับเรื่องแล้ว', reassigned: 'เปลี่ยนทีม', en_route: 'ทีมกำลังเดินทาง',
      on_scene: 'ทีมถึงที่เกิดเหตุ', resolved: 'ช่วยเหลือเสร็จแล้ว', closed: 'ปิดเรื่อง',
    },
    reason: {
      triage: 'รอคัดกรอง', needs_triage: 'ระบบไม่แน่ใจ ต้องคัดกรอง', no_location: 'ยังไม่มีจุดเกิดเหตุ',
      no_team_available: 'ไม่มีทีมว่าง', no_acknowledgment: 'ทีมไม่ตอบรับ',
      escalated: 'ส่งหัวหน้าเวร', queued: 'รอดำเนินการ', chat_wait: 'ผู้แจ้งรอคุยนานเกินกำหนด',
    },
    priority: { P1: 'P1 ด่วนมาก', P2: 'P2 ด่วน', P3: 'P3 ปกติ', P4: 'P4 ไม่เร่งด่วน' },
    channel: { hotline: 'สายด่วน', line: 'LINE' },
    skill: {
      social_worker: 'นักสังคมสงเคราะห์', police: 'ตำรวจ', nurse: 'พยาบาล',
      mental_health: 'สุขภาพจิต', child_protection: 'คุ้มครองเด็ก',
    },
  },
  en: {
    category: {
      threat: 'Threatened', detention: 'Detained', abuse_risk: 'At risk of sexual abuse',
      mental_crisis: 'Mental-health crisis', gathering: 'Illicit gathering', other: 'Other social problem',
    },
    status: {
      received: 'Received', queued: 'Queued', assigned: 'Assigned', acknowledged: 'Acknowledged',
      reassigned: 'Reassigned', en_route: 'On the way', on_scene: 'On scene', resolved: 'Resolved',
      closed: 'Closed',
    },
    reason: {
      triage: 'Needs triage', needs_triage: 'Unsure classification: triage', no_location: 'No location',
      no_team_available: 'No team available', no_acknowledgment: 'No team acknowledged',
      escalated: 'Escalated', queued: 'Queued', chat_wait: 'Reporter waited too long to talk',
    },
    priority: { P1: 'P1 critical', P2: 'P2 urgent', P3: 'P3 normal', P4: 'P4 low' },
    channel: { hotline: 'Hotline', line: 'LINE' },
    skill: {
      social_worker: 'social worker', police: 'police', nurse: 'nurse',
      mental_health: 'mental health', child_protection: 'child protection',
    },
  },
};

export const CATEGORIES = ['threat', 'detention', 'abuse_risk', 'mental_crisis', 'gathering', 'other'];
export const STATUSES = ['received', 'queued', 'assigned', 'acknowledged', 'reassigned', 'en_route',
  'on_scene', 'resolved', 'closed'];
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'];

let lang = 'th';
try {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'th' || saved === 'en') lang = saved;
} catch (e) { /* storage off: Thai */ }

export function getLang() { return lang; }

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'th';
  try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* not remembered */ }
  document.documentElement.lang = lang;
}

// The text of key in the current language with {name} replaced from vars.
export function t(key, vars) {
  let s = TEXT[lang][key];
  if (s === undefined) s = TEXT.th[key] !== undefined ? TEXT.th[key] : key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

// The label of an API code of a kind (category, status, reason, priority, channel, skill); the
// code itself when unknown; the empty-value mark for null.
export function label(kind, code) {
  if (code === null || code === undefined || code === '') return TEXT[lang].none;
  const table = CODES[lang][kind];
  return (table && table[code]) || String(code);
}

const TZ = 'Asia/Bangkok';

// A time (RFC 3339 or ms) as Thai time (UTC+7), in the reader's language: day, month, time.
export function formatTime(at) {
  if (!at) return TEXT[lang].none;
  const d = new Date(at);
  if (isNaN(d.getTime())) return String(at);
  return new Intl.DateTimeFormat(lang === 'th' ? 'th-TH' : 'en-GB', {
    timeZone: TZ, day: 'numeric', month: 'short', year: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(d);
}

// The time of day of at in Thai time, "14:05:09" (a chat message; formatTime has the date).
export function formatClock(at) {
  if (!at) return TEXT[lang].none;
  const d = new Date(at);
  if (isNaN(d.getTime())) return String(at);
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(d);
}

// The same time as a machine-readable attribute (<time datetime>).
export function isoTime(at) {
  const d = new Date(at);
  return isNaN(d.getTime()) ? '' : d.toISOString();
}

// How long ago at was, compact: "45s", "12:05" (m:ss), "3:12:05" (h:mm:ss), "2d 3h".
export function formatAge(at, now) {
  const ms = (now || Date.now()) - new Date(at).getTime();
  if (!(ms >= 0)) return '0:00';
  const s = Math.floor(ms / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  if (s >= 86400) {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    return lang === 'th' ? `${d} วัน ${h} ชม.` : `${d}d ${h}h`;
  }
  if (s >= 3600) return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

// What an API error (an ApiError: status, code, message) says to the operator: the console's
// own words for the codes it knows (with the router's detail for a field), else the router's.
export function errorText(e) {
  if (e.status === 0) return t('err_network');
  if (e.status === 403) return t('err_forbidden');
  if (e.status === 503) return t('err_busy');
  const key = 'code_' + e.code;
  const own = TEXT[lang][key];
  if (own && (e.code === 'invalid_field' || e.code === 'missing_field')) {
    return lang === 'en' && e.message ? e.message : `${own} (${e.message})`;
  }
  if (own) return own;
  return t('err_generic', { message: e.message });
}

// A wait in seconds as words ("15 นาที" / "40 s").
export function formatWait(seconds) {
  const s = Math.max(1, Math.round(seconds));
  if (s >= 60) return t('wait_minutes', { n: Math.ceil(s / 60) });
  return t('wait_seconds', { n: s });
}

export function formatKm(km) {
  if (km === null || km === undefined) return TEXT[lang].none;
  return t('km', { km: Number(km).toLocaleString(lang === 'th' ? 'th-TH' : 'en-GB', { maximumFractionDigits: 1 }) });
}
